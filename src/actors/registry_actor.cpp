// The registry actor: starts tenants on demand, reaps idle ones, applies reloads.
#include <algorithm>
#include <map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/messages.hpp"
#include "actors/registry_state.hpp"
#include "actors/registry_view.hpp"
#include "actors/tenant.hpp"

namespace ebuse {

std::shared_ptr<const tenant_directory>
build_directory(const std::vector<tenant_spec>& specs, const std::vector<key_digest>& admins,
                const tenant_directory* old, std::vector<std::shared_ptr<tenant_slot>>& dropped) {
  std::map<std::string, std::shared_ptr<tenant_slot>> previous;
  if (old)
    for (const auto& s : old->slots)
      previous.emplace(s->name, s);
  auto directory = std::make_shared<tenant_directory>();
  for (const auto& d : admins)
    directory->admin_keys.insert(digest_key(d));
  for (const auto& spec : specs) {
    std::shared_ptr<tenant_slot> slot;
    auto i = previous.find(spec.name);
    if (i != previous.end() && i->second->db_path == spec.db_path
        && i->second->database_url == spec.database_url) {
      slot = i->second;
      previous.erase(i);
    } else {
      slot = std::make_shared<tenant_slot>();
      slot->name = spec.name;
      slot->db_path = spec.db_path;
      slot->database_url = spec.database_url;
    }
    directory->by_key.emplace(digest_key(spec.key), slot);
    directory->slots.push_back(std::move(slot));
  }
  std::sort(directory->slots.begin(), directory->slots.end(),
            [](const auto& a, const auto& b) { return a->name < b->name; });
  for (auto& [name, slot] : previous)
    dropped.push_back(std::move(slot));
  return directory;
}

namespace reg {

void notify(registry_state& st, std::string_view event, std::string_view tenant,
            std::string_view detail) {
  if (st.view->opts.on_event)
    st.view->opts.on_event(event, tenant, detail);
}

std::chrono::nanoseconds reap_period(const registry_options& opts) {
  auto quarter = std::min(opts.idle_timeout / 4, opts.health_interval);
  return std::clamp<std::chrono::nanoseconds>(quarter, std::chrono::milliseconds(10),
                                              std::chrono::seconds(5));
}

// Watches the file owners of stopped tenant `t` (the writer is watched already, unless
// it is dead): once all are down and the checkpointer let go of the file too, the tenant
// is reported closed, and its file may be replaced. `counted`: it was counted as
// stopping already (removed while in use).
void watch_close(registry_self self, const tenant& t, bool writer_down, bool counted) {
  auto& st = self->state;
  auto entry = std::make_shared<closing_tenant>();
  entry->name = t.name();
  entry->db_path = t.db_path();
  for (auto& owner : t.file_owners()) {
    bool is_writer = owner == t.writer().address();
    if (is_writer && writer_down)
      continue;
    if (!is_writer)
      self->monitor(owner);
    st.closing.emplace(owner, entry);
    ++entry->pending;
  }
  if (!counted)
    st.view->closing_begins(entry->name);
  ++st.closing_count;
}

// A file owner of a stopped tenant is down: the last one releases the checkpointer's
// connection.
void owner_down(registry_self self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.closing.find(who);
  if (i == st.closing.end())
    return;
  auto entry = i->second;
  st.closing.erase(i);
  if (--entry->pending > 0)
    return;
  auto checkpointer = st.view->opts.defaults.writer.checkpointer;
  if (!checkpointer)
    return closed(self, *entry);
  self->request(checkpointer, std::chrono::seconds(10), release_atom::value, entry->db_path)
    .then([self, entry](bool) { closed(self, *entry); },
          [self, entry](caf::error&) { closed(self, *entry); });
}

// Stops the tenant of `slot` if nobody holds it: the slot's reference is then the only
// one, and no request can take another without the slot's lock. Unless `self` is null
// (shutdown), the tenant is watched until its file is closed.
bool stop_if_unused(registry_self self, registry_state& st, tenant_slot& slot, bool force,
                    std::string_view why, bool writer_down) {
  std::shared_ptr<tenant> t;
  bool counted;
  {
    std::lock_guard<std::mutex> guard{slot.mtx};
    if (!slot.running || (!force && slot.running.use_count() > 1))
      return false;
    t = std::move(slot.running);
    counted = std::exchange(slot.counted_closing, false);
  }
  st.by_writer.erase(t->writer().address());
  t->stop();
  notify(st, "tenant stopped", slot.name, why);
  st.view->stats.active.fetch_sub(1, std::memory_order_relaxed);
  if (self)
    watch_close(self, *t, writer_down, counted);
  return true;
}

// Has a reader of every running tenant read its head; a failure marks the tenant
// unhealthy, a success clears it (tenant_stats::mark_fault). Nobody waits for the answers.
void probe(registry_state& st, std::chrono::steady_clock::time_point now) {
  if (now < st.next_probe)
    return;
  st.next_probe = now + st.view->opts.health_interval;
  for (auto& slot : st.view->current()->slots) {
    std::shared_ptr<tenant> t;
    {
      std::lock_guard<std::mutex> guard{slot->mtx};
      t = slot->running;
    }
    if (t)
      dispatch(t->reader(), health_cmd{});
  }
}

void reap(registry_self self) {
  auto& st = self->state;
  auto now = std::chrono::steady_clock::now();
  probe(st, now);
  expire_parked(st, now);
  auto idle = st.view->opts.idle_timeout;
  auto directory = st.view->current();
  for (auto& slot : directory->slots) {
    bool expired;
    {
      std::lock_guard<std::mutex> guard{slot->mtx};
      expired = slot->running && now - slot->last_used >= idle;
    }
    if (expired && stop_if_unused(self, st, *slot, false, "idle"))
      st.view->stats.idle_stops.fetch_add(1, std::memory_order_relaxed);
  }
  // Removed tenants stop as soon as their in-flight requests are done.
  auto& retired = st.retired;
  for (auto i = retired.begin(); i != retired.end();) {
    stop_if_unused(self, st, **i, false, "removed from the configuration");
    bool still_running;
    {
      std::lock_guard<std::mutex> guard{(*i)->mtx};
      still_running = static_cast<bool>((*i)->running);
    }
    i = still_running ? std::next(i) : retired.erase(i);
  }
}

// Tenants started eagerly before the actor existed still need their writer watched.
void watch_running(registry_self self) {
  for (auto& slot : self->state.view->current()->slots) {
    std::lock_guard<std::mutex> guard{slot->mtx};
    if (slot->running) {
      ++self->state.open;
      self->monitor(slot->running->writer());
      self->state.by_writer.emplace(slot->running->writer().address(), slot);
    }
  }
}

// A writer died on its own: drop the tenant so the next request starts it anew. Any
// other actor down is a file owner of a stopped tenant.
void on_down(registry_self self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto i = st.by_writer.find(msg.source);
  if (i == st.by_writer.end())
    return owner_down(self, msg.source);
  auto slot = i->second;
  st.by_writer.erase(i);
  notify(st, "writer died", slot->name, to_string(msg.reason));
  if (stop_if_unused(self, st, *slot, true, "writer died; restarted on the next request",
                     true))
    st.view->stats.restarts.fetch_add(1, std::memory_order_relaxed);
}

void reload(registry_self self, reload_cmd& cmd) {
  auto& st = self->state;
  std::vector<std::shared_ptr<tenant_slot>> dropped;
  auto old = st.view->current();
  st.view->publish(build_directory(*cmd.tenants, *cmd.admin_keys, old.get(), dropped));
  for (auto& slot : dropped) {
    std::lock_guard<std::mutex> guard{slot->mtx};
    slot->retired = true;
    // Still in use: stopping from now on, until its file is closed.
    if (slot->running && !slot->counted_closing) {
      slot->counted_closing = true;
      st.view->closing_begins(slot->name);
    }
    st.retired.push_back(slot);
  }
  // A removed tenant added again (a new slot of the same name) must not run beside its
  // old instance: that one stops now, even if a request (a stream) still holds it, and
  // the new one starts once it has closed its file.
  auto current = st.view->current();
  for (auto& old_slot : st.retired)
    for (auto& fresh : current->slots)
      if (fresh->name == old_slot->name)
        stop_if_unused(self, st, *old_slot, true, "added again; restarted once closed");
  for (auto& slot : dropped)
    st.starts.erase(slot);
  st.view->stats.configured.store(static_cast<int64_t>(cmd.tenants->size()));
  st.view->stats.reloads.fetch_add(1, std::memory_order_relaxed);
  deliver<int64_t>(cmd.reply, static_cast<int64_t>(cmd.tenants->size()));
  reap(self);
}

void stop_all(registry_self self, stop_all_cmd& cmd) {
  auto& st = self->state;
  // Starts in flight finish first (a tenant they open is stopped by the job itself).
  st.view->stopping->store(true);
  st.view->starts->stop();
  // Requests that waited for one of those starts: the answer of a failed start may
  // still be in the mailbox, and nothing is handed out any more.
  for (auto& [slot, entry] : st.starts)
    for (auto& w : std::exchange(entry.waiters, {}))
      deliver<std::shared_ptr<tenant>>(w, make_error(errc::tenant_stopping,
                                                     "the server is stopping"));
  st.starts.clear();
  for (auto& [name, list] : st.parked)
    for (auto& p : list)
      deliver<std::shared_ptr<tenant>>(p.cmd.reply,
                                       make_error(errc::tenant_stopping, "the server is stopping"));
  st.parked.clear();
  for (auto& p : std::exchange(st.over_budget, {}))
    deliver<std::shared_ptr<tenant>>(p.cmd.reply,
                                     make_error(errc::tenant_stopping, "the server is stopping"));
  int64_t stopped = 0;
  for (auto& slot : st.view->current()->slots)
    stopped += stop_if_unused(nullptr, st, *slot, true, "shutdown") ? 1 : 0;
  for (auto& slot : st.retired)
    stopped += stop_if_unused(nullptr, st, *slot, true, "shutdown") ? 1 : 0;
  st.retired.clear();
  // After the writers were told to stop: each checkpoints on its own way out.
  caf::anon_send_exit(st.view->opts.defaults.writer.checkpointer,
                      caf::exit_reason::user_shutdown);
  deliver<int64_t>(cmd.reply, stopped);
  // Shutdown: nothing is started any more, and the actor system can wind down.
  self->quit();
}

registry_actor::behavior_type registry_impl(registry_self self,
                                           std::shared_ptr<registry_view> view) {
  self->state.view = std::move(view);
  self->state.next_probe = std::chrono::steady_clock::now() + self->state.view->opts.health_interval;
  watch_running(self);
  self->state.view->stats.open.store(self->state.open);
  self->state.view->stats.max_open.store(self->state.view->opts.max_open_tenants);
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  self->send(self, reap_atom::value);
  auto& figures = self->state.view->stats.actor;
  return {
    [self, &figures](acquire_cmd& cmd) {
      handling_scope scope{figures, self->mailbox().size()};
      acquire(self, cmd);
    },
    [self, &figures](start_done_cmd& msg) {
      handling_scope scope{figures, self->mailbox().size()};
      start_done(self, msg);
    },
    [self, &figures](reload_cmd& cmd) {
      handling_scope scope{figures, self->mailbox().size()};
      reload(self, cmd);
    },
    [self, &figures](reap_atom) {
      handling_scope scope{figures, self->mailbox().size()};
      reap(self);
      self->delayed_send(self, reap_period(self->state.view->opts), reap_atom::value);
    },
    [self, &figures](budget_atom) {
      handling_scope scope{figures, self->mailbox().size()};
      budget_tick(self);
    },
    [self, &figures](stop_all_cmd& cmd) {
      handling_scope scope{figures, self->mailbox().size()};
      stop_all(self, cmd);
    },
  };
}

} // namespace reg

registry_actor spawn_registry_actor(caf::actor_system& sys,
                                    std::shared_ptr<registry_view> view) {
  return sys.spawn<caf::detached>(reg::registry_impl, std::move(view));
}

} // namespace ebuse
