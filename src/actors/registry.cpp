// The registry handle: directory lookups for HTTP threads, messages for everything else.
#include "actors/registry.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/checkpointer.hpp"
#include "actors/messages.hpp"
#include "actors/registry_view.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

namespace {

// Starting a tenant opens (and on first use creates and migrates) its database.
constexpr auto start_timeout = std::chrono::seconds(30);

// The tenant of `slot`, asking the registry actor to start it when it is not running.
caf::expected<std::shared_ptr<tenant>> acquire(registry_view& view,
                                               const std::shared_ptr<tenant_slot>& slot) {
  if (auto t = slot->use())
    return t;
  return ask(view.actor, acquire_cmd{slot, {}}, start_timeout);
}

} // namespace

caf::expected<std::shared_ptr<tenant_registry>>
tenant_registry::start(caf::actor_system& sys, registry_options opts) {
  auto view = std::make_shared<registry_view>();
  // One checkpointer serves every tenant's writer.
  if (!opts.defaults.writer.checkpointer) {
    checkpointer_options copts;
    copts.pool = opts.defaults.writer.pool;
    // Syncs leave at least one storage worker to commits (none to spare with one).
    if (copts.pool)
      copts.max_running = std::clamp<std::size_t>(copts.pool->threads() - 1, 1, 2);
    opts.defaults.writer.checkpointer = spawn_checkpointer(sys, std::move(copts));
  }
  opts.defaults.unhealthy = view->unhealthy;
  std::vector<std::shared_ptr<tenant_slot>> unused;
  auto directory = build_directory(opts.tenants, opts.admin_keys, nullptr, unused);
  if (opts.eager) {
    for (auto& slot : directory->slots) {
      tenant_options topts = opts.defaults;
      topts.name = slot->name;
      topts.db_path = slot->db_path;
  topts.database_url = slot->database_url;
      topts.database_url = slot->database_url;
      auto t = tenant::start(sys, topts);
      if (!t)
        return std::move(t.error());
      slot->running = *t;
      slot->last_used = std::chrono::steady_clock::now();
      view->stats.spawns.fetch_add(1);
      view->stats.active.fetch_add(1);
    }
  }
  view->stats.configured.store(static_cast<int64_t>(opts.tenants.size()));
  view->publish(std::move(directory));
  view->opts = std::move(opts);
  // The directory holds them; keys are not kept twice.
  view->opts.tenants.clear();
  view->opts.admin_keys.clear();
  view->starts = std::make_unique<worker_pool>(view->opts.start_workers);
  view->stats.storage = view->opts.defaults.writer.pool;
  view->stats.reader_connections = view->opts.defaults.reader_connections;
  view->actor = spawn_registry_actor(sys, view);
  std::shared_ptr<tenant_registry> result{new tenant_registry};
  result->view_ = std::move(view);
  return result;
}

tenant_registry::~tenant_registry() {
  // No start runs past the registry's handle (they spawn actors into the system).
  view_->stopping->store(true);
  view_->starts->stop();
  // Breaks the cycle between the actor's state and the view.
  caf::anon_send_exit(view_->actor, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(view_->opts.defaults.writer.checkpointer, caf::exit_reason::user_shutdown);
}

caf::expected<std::shared_ptr<tenant>> tenant_registry::find(std::string_view key) {
  if (key.empty())
    return std::shared_ptr<tenant>{};
  // A map lookup by digest leaks nothing useful through timing: a guess's digest says
  // nothing about the keys. The digest is taken on every request (no cache of presented
  // keys: a key is never held in memory past its request).
  auto directory = view_->current();
  auto i = directory->by_key.find(digest_key(digest_of(key)));
  if (i == directory->by_key.end())
    return std::shared_ptr<tenant>{};
  return acquire(*view_, i->second);
}

caf::expected<std::shared_ptr<tenant>> tenant_registry::find_by_name(std::string_view name) {
  auto directory = view_->current();
  for (const auto& slot : directory->slots)
    if (slot->name == name)
      return acquire(*view_, slot);
  if (view_->is_closing(std::string{name}))
    return make_error(errc::tenant_stopping,
                      "tenant " + std::string{name} + " is stopping; retry later");
  return std::shared_ptr<tenant>{};
}

caf::actor_system& tenant_registry::system() const {
  return view_->actor->home_system();
}

bool tenant_registry::has_tenant_key(std::string_view key) const {
  if (key.empty())
    return false;
  auto directory = view_->current();
  return directory->by_key.count(digest_key(digest_of(key))) > 0;
}

bool tenant_registry::is_admin(std::string_view key) const {
  if (key.empty())
    return false;
  auto directory = view_->current();
  return directory->admin_keys.count(digest_key(digest_of(key))) > 0;
}

std::vector<std::string> tenant_registry::names() const {
  std::vector<std::string> result;
  for (const auto& slot : view_->current()->slots)
    result.push_back(slot->name);
  return result;
}

std::vector<std::shared_ptr<tenant>> tenant_registry::running() const {
  std::vector<std::shared_ptr<tenant>> result;
  for (const auto& slot : view_->current()->slots) {
    std::lock_guard<std::mutex> guard{slot->mtx};
    if (slot->running)
      result.push_back(slot->running);
  }
  return result;
}

void tenant_registry::reload(std::vector<tenant_spec> tenants,
                             std::vector<key_digest> admin_keys) {
  auto shared = std::make_shared<const std::vector<tenant_spec>>(std::move(tenants));
  auto admins = std::make_shared<const std::vector<key_digest>>(std::move(admin_keys));
  // Waits until applied: a caller that says the configuration is reloaded means it.
  ask(view_->actor, reload_cmd{std::move(shared), std::move(admins), {}}, start_timeout);
}

void tenant_registry::stop_all() {
  ask(view_->actor, stop_all_cmd{}, start_timeout);
}

const registry_stats& tenant_registry::stats() const noexcept {
  return view_->stats;
}

int64_t tenant_registry::unhealthy() const noexcept {
  return view_->unhealthy->load(std::memory_order_relaxed);
}

bool tenant_registry::multi_tenant() const noexcept {
  return view_->opts.multi_tenant;
}

} // namespace ebuse
