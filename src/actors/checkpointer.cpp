// One background thread checkpoints the WAL of every tenant.
#include "actors/checkpointer.hpp"

#include <chrono>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/tenant_stats.hpp"
#include "actors/type_ids.hpp"
#include "storage/db.hpp"

namespace ebuse {

checkpoint_ticket::checkpoint_ticket(std::shared_ptr<tenant_stats> stats)
  : stats_(std::move(stats)) {
  stats_->checkpoint_pending.store(true, std::memory_order_release);
}

checkpoint_ticket::~checkpoint_ticket() {
  stats_->checkpoint_pending.store(false, std::memory_order_release);
}

namespace {

using clock = std::chrono::steady_clock;

struct checkpointer_state {
  std::chrono::milliseconds idle_close{60000};
  struct entry {
    sql::connection db;
    clock::time_point used;
  };
  std::unordered_map<std::string, entry> conns;
  bool sweep_scheduled = false;

  static inline const char* name = "checkpointer";

  // The file must exist: a tenant removed meanwhile is not recreated empty.
  sql::connection* connection_for(const std::string& path) {
    auto i = conns.find(path);
    if (i == conns.end()) {
      auto db = sql::connection::open(path, false, false);
      if (!db)
        return nullptr;
      // A connection finds the WAL only when it first reads the database; until then
      // a checkpoint on it does nothing. PASSIVE never waits on a lock, but this read
      // may (briefly).
      if (db->exec("PRAGMA busy_timeout=1000;SELECT count(*) FROM sqlite_master"))
        return nullptr;
      i = conns.emplace(path, entry{std::move(*db), clock::now()}).first;
    }
    i->second.used = clock::now();
    return &i->second.db;
  }
};

using checkpointer_self = checkpointer_actor::stateful_pointer<checkpointer_state>;

void schedule_sweep(checkpointer_self self) {
  if (self->state.sweep_scheduled || self->state.conns.empty())
    return;
  self->state.sweep_scheduled = true;
  self->delayed_send(self, self->state.idle_close, reap_atom::value);
}

// (Takes an argument: CAF 0.17 dereferences a null argument tuple for actors that
// take none, which UBSan reports.)
checkpointer_actor::behavior_type checkpointer_impl(checkpointer_self self,
                                                    std::chrono::milliseconds idle_close) {
  self->state.idle_close = idle_close;
  return {
    [self](checkpoint_cmd& cmd) {
      auto& stats = cmd.ticket->stats();
      auto start = clock::now();
      auto* db = self->state.connection_for(cmd.db_path);
      auto frames = db ? sql::checkpoint_passive(*db) : caf::expected<int>{caf::error{}};
      if (!db || !frames) {
        stats.checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
        // A broken connection is reopened next time.
        self->state.conns.erase(cmd.db_path);
      } else {
        stats.checkpoints.fetch_add(1, std::memory_order_relaxed);
        stats.checkpointed_frames.fetch_add(static_cast<uint64_t>(*frames),
                                            std::memory_order_relaxed);
        stats.checkpoint_latency.observe(
          std::chrono::duration<double>(clock::now() - start).count());
      }
      cmd.ticket.reset(); // done: the writer may finish the rest
      schedule_sweep(self);
    },
    [self](release_atom, const std::string& path) {
      // The tenant stopped: its file may be replaced (a restore), and a connection left
      // open on the old one would checkpoint into it, or delete the new WAL on close.
      self->state.conns.erase(path);
      return true;
    },
    [self](reap_atom) {
      auto& st = self->state;
      st.sweep_scheduled = false;
      auto now = clock::now();
      for (auto i = st.conns.begin(); i != st.conns.end();) {
        if (now - i->second.used >= st.idle_close)
          i = st.conns.erase(i);
        else
          ++i;
      }
      schedule_sweep(self);
    },
  };
}

} // namespace

checkpointer_actor spawn_checkpointer(caf::actor_system& sys,
                                      std::chrono::milliseconds idle_close) {
  return sys.spawn<caf::detached>(checkpointer_impl, idle_close);
}

} // namespace ebuse
