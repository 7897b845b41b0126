// Tenant starts: run on the start workers, shared by concurrent requests, backed off
// after failures, and held back while a previous instance still closes its file.
#include <algorithm>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "actors/registry_state.hpp"
#include "actors/tenant.hpp"

namespace ebuse::reg {

namespace {

// The delay before the next start after `failures` failed ones in a row.
std::chrono::nanoseconds backoff(const registry_options& opts, int failures) {
  auto delay = opts.start_backoff;
  for (int i = 1; i < failures && delay < opts.start_backoff_max; ++i)
    delay *= 2;
  return std::min(delay, opts.start_backoff_max);
}

// Opens the tenant of `slot` on a start worker; the result comes back as start_done_cmd.
// The job holds neither the registry's state nor its view.
bool launch_start(registry_self self, const std::shared_ptr<tenant_slot>& slot) {
  auto& view = *self->state.view;
  tenant_options topts = view.opts.defaults;
  topts.name = slot->name;
  topts.db_path = slot->db_path;
  topts.database_url = slot->database_url;
  auto* sys = &self->system();
  auto me = caf::actor_cast<registry_actor>(self);
  auto stopping = view.stopping;
  return view.starts->submit([sys, me, slot, topts, stopping] {
    auto t = tenant::start(*sys, topts);
    start_done_cmd done{slot, nullptr, caf::error{}};
    if (t)
      done.started = std::move(*t);
    else
      done.err = std::move(t.error());
    // Shutdown has begun: nobody will be handed this tenant.
    if (stopping->load() && done.started)
      done.started->stop();
    else
      caf::anon_send(me, std::move(done));
  });
}


} // namespace

// The previous instance of `entry.name` has closed its file: requests parked for it go
// on (unless yet another instance of that name is closing).
void closed(registry_self self, const closing_tenant& entry) {
  auto& st = self->state;
  st.view->closing_ends(entry.name);
  notify(st, "tenant closed", entry.name, "every connection to its file is closed");
  --st.closing_count;
  st.view->stats.open.store(--st.open, std::memory_order_relaxed);
  auto i = st.parked.find(entry.name);
  if (i != st.parked.end() && !st.view->is_closing(entry.name)) {
    auto waiting = std::move(i->second);
    st.parked.erase(i);
    for (auto& p : waiting)
      acquire(self, p.cmd);
  }
  room_freed(self);
}

// Parked requests that waited too long are told to come back.
void expire_parked(registry_state& st, std::chrono::steady_clock::time_point now) {
  for (auto i = st.parked.begin(); i != st.parked.end();) {
    auto& list = i->second;
    for (auto j = list.begin(); j != list.end();) {
      if (now < j->deadline) {
        ++j;
        continue;
      }
      deliver<std::shared_ptr<tenant>>(
        j->cmd.reply, make_error(errc::tenant_stopping,
                                 "tenant " + i->first + " is still closing its files", 1));
      j = list.erase(j);
    }
    i = list.empty() ? st.parked.erase(i) : std::next(i);
  }
}

void acquire(registry_self self, acquire_cmd& cmd) {
  auto& st = self->state;
  auto& slot = *cmd.slot;
  {
    std::lock_guard<std::mutex> guard{slot.mtx};
    if (slot.retired)
      return deliver<std::shared_ptr<tenant>>(cmd.reply, std::shared_ptr<tenant>{});
    if (slot.running) {
      slot.last_used = std::chrono::steady_clock::now();
      return deliver<std::shared_ptr<tenant>>(cmd.reply, slot.running);
    }
  }
  auto now = std::chrono::steady_clock::now();
  // Never two instances on one file: the next one starts once the previous has closed.
  if (st.view->is_closing(slot.name)) {
    st.parked[slot.name].push_back(parked_acquire{std::move(cmd), now + st.view->opts.close_wait});
    return;
  }
  auto& entry = st.starts[cmd.slot];
  if (entry.running) {
    entry.waiters.push_back(std::move(cmd.reply));
    return;
  }
  if (entry.failures > 0 && now < entry.retry_at) {
    auto wait = std::chrono::duration_cast<std::chrono::seconds>(entry.retry_at - now
                                                                 + std::chrono::seconds(1));
    return deliver<std::shared_ptr<tenant>>(
      cmd.reply, make_error(code_of(entry.last_error),
                            "tenant " + slot.name + " failed to start; retry later",
                            std::max<int64_t>(1, wait.count())));
  }
  if (park_for_room(self, cmd))
    return;
  entry.running = true;
  entry.waiters.push_back(std::move(cmd.reply));
  if (launch_start(self, cmd.slot)) {
    st.view->stats.open.store(++st.open, std::memory_order_relaxed);
  } else {
    entry.running = false;
    for (auto& w : std::exchange(entry.waiters, {}))
      deliver<std::shared_ptr<tenant>>(w, make_error(errc::tenant_stopping,
                                                     "the server is stopping"));
  }
}

// A start job finished: hand the tenant to everyone who waited, or back off.
void start_done(registry_self self, start_done_cmd& msg) {
  auto& st = self->state;
  auto& view = *st.view;
  auto& entry = st.starts[msg.slot];
  entry.running = false;
  auto waiters = std::exchange(entry.waiters, {});
  auto& slot = *msg.slot;
  if (!msg.started) {
    auto err = msg.err ? msg.err : make_error(errc::internal, "tenant start failed");
    notify(st, "tenant failed to start", slot.name, message_of(err));
    ++entry.failures;
    entry.retry_at = std::chrono::steady_clock::now() + backoff(view.opts, entry.failures);
    entry.last_error = err;
    for (auto& w : waiters)
      deliver<std::shared_ptr<tenant>>(w, err);
    st.view->stats.open.store(--st.open, std::memory_order_relaxed);
    return room_freed(self);
  }
  st.starts.erase(msg.slot);
  auto t = std::move(msg.started);
  notify(st, "tenant started", slot.name);
  self->monitor(t->writer());
  view.stats.spawns.fetch_add(1, std::memory_order_relaxed);
  bool retired;
  {
    std::lock_guard<std::mutex> guard{slot.mtx};
    retired = slot.retired;
    if (!retired) {
      slot.running = t;
      slot.last_used = std::chrono::steady_clock::now();
    }
  }
  if (retired) {
    // Removed while it opened: closed again, and a re-added tenant of that name waits.
    t->stop();
    notify(st, "tenant stopped", slot.name, "removed from the configuration");
    watch_close(self, *t, false, false);
    t.reset();
  } else {
    view.stats.active.fetch_add(1, std::memory_order_relaxed);
    st.by_writer.emplace(t->writer().address(), msg.slot);
  }
  for (auto& w : waiters)
    deliver<std::shared_ptr<tenant>>(w, t);
}

} // namespace ebuse::reg
