// The open-tenant budget: idle tenants stopped to make room, requests waiting for a place.
#include <unordered_set>
#include <utility>

#include <caf/send.hpp>

#include "actors/open_budget.hpp"
#include "actors/registry_state.hpp"
#include "actors/tenant.hpp"

namespace ebuse::reg {

namespace {

// How often requests waiting for a place look again for a tenant that became idle: a
// request ends without telling the registry, so busy tenants are polled while anyone waits.
constexpr auto budget_poll = std::chrono::milliseconds(10);

void schedule_tick(registry_self self) {
  auto& st = self->state;
  if (st.over_budget.empty() || st.budget_tick_scheduled)
    return;
  st.budget_tick_scheduled = true;
  self->delayed_send(self, budget_poll, budget_atom::value);
}

// Stops as many least recently used idle tenants as the waiting requests need, beyond
// those already closing; the places come free when their files are closed (closed()).
void make_room(registry_self self) {
  auto& st = self->state;
  std::unordered_set<const tenant_slot*> waiting;
  for (const auto& p : st.over_budget)
    waiting.insert(p.cmd.slot.get());
  auto needed = stops_needed(st.open, st.view->opts.max_open_tenants, waiting.size(),
                             st.closing_count);
  if (needed > 0) {
    std::vector<std::shared_ptr<tenant_slot>> slots;
    std::vector<idle_tenant> idle;
    for (const auto& [writer, slot] : st.by_writer) {
      std::lock_guard<std::mutex> guard{slot->mtx};
      // Held by nobody but the slot: no request, waiter, follower or stream uses it.
      if (slot->running && slot->running.use_count() == 1) {
        idle.push_back(idle_tenant{slot->last_used, slots.size()});
        slots.push_back(slot);
      }
    }
    for (auto i : least_recently_used(std::move(idle), needed))
      if (stop_if_unused(self, st, *slots[i], false, "open-tenant budget"))
        st.view->stats.budget_stops.fetch_add(1, std::memory_order_relaxed);
  }
  schedule_tick(self);
}

} // namespace

bool park_for_room(registry_self self, acquire_cmd& cmd) {
  auto& st = self->state;
  auto limit = st.view->opts.max_open_tenants;
  if (limit <= 0 || st.open < limit)
    return false;
  st.over_budget.push_back(
    parked_acquire{std::move(cmd), std::chrono::steady_clock::now() + st.view->opts.room_wait});
  st.view->stats.budget_waits.fetch_add(1, std::memory_order_relaxed);
  make_room(self);
  return true;
}

void room_freed(registry_self self) {
  auto& st = self->state;
  auto limit = st.view->opts.max_open_tenants;
  // acquire() starts the first waiting tenant (one more open), hands out one that has
  // started meanwhile, or joins a start in flight: the loop always ends.
  while (!st.over_budget.empty() && (limit <= 0 || st.open < limit)) {
    auto next = std::move(st.over_budget.front());
    st.over_budget.pop_front();
    acquire(self, next.cmd);
  }
}

void budget_tick(registry_self self) {
  auto& st = self->state;
  st.budget_tick_scheduled = false;
  auto now = std::chrono::steady_clock::now();
  for (auto i = st.over_budget.begin(); i != st.over_budget.end();) {
    if (now < i->deadline) {
      ++i;
      continue;
    }
    // Counted before the answer: a client that has its 503 finds it in /metrics.
    st.view->stats.budget_refusals.fetch_add(1, std::memory_order_relaxed);
    deliver<std::shared_ptr<tenant>>(
      i->cmd.reply, make_error(errc::overloaded,
                               "every open tenant is busy (MAX_OPEN_TENANTS); retry later", 1));
    i = st.over_budget.erase(i);
  }
  make_room(self);
}

} // namespace ebuse::reg
