// The checkpointer orders every tenant's WAL checkpoints into jobs on the storage pool.
#include "actors/checkpointer.hpp"

#include <chrono>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/job_line.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer.hpp"
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

/// The connection to one file. Only the file's job touches it while one is running
/// (at most one is), the actor only while none is.
struct file_conn {
  std::optional<sql::connection> db;
};

struct file_entry {
  std::shared_ptr<file_conn> conn = std::make_shared<file_conn>();
  clock::time_point used = clock::now();
  bool busy = false;    ///< a job of this file is running (or queued on the line)
  bool closing = false; ///< that job closes the connection
  std::deque<checkpoint_cmd> waiting; ///< checkpoints asked for meanwhile
  std::vector<caf::typed_response_promise<bool>> releases; ///< answered once closed
};

struct checkpointer_state {
  std::shared_ptr<const checkpointer_options> opts; ///< shared with the jobs
  job_line jobs;
  std::unordered_map<std::string, file_entry> files;
  bool sweep_scheduled = false;

  static inline const char* name = "checkpointer";
};

using checkpointer_self = checkpointer_actor::stateful_pointer<checkpointer_state>;

// The file must exist: a tenant removed meanwhile is not recreated empty.
bool ensure_open(file_conn& fc, const std::string& path) {
  if (fc.db)
    return true;
  auto db = sql::connection::open(path, false, false);
  if (!db)
    return false;
  // A connection finds the WAL only when it first reads the database; until then a
  // checkpoint on it does nothing. PASSIVE never waits on a lock, but this read may
  // (briefly).
  if (db->exec("PRAGMA busy_timeout=1000;SELECT count(*) FROM sqlite_master"))
    return false;
  fc.db.emplace(std::move(*db));
  return true;
}

void run_checkpoint(file_conn& fc, const std::string& path, checkpoint_cmd& cmd,
                    const checkpointer_options& opts) {
  auto& stats = cmd.ticket->stats();
  auto start = clock::now();
  bool open = ensure_open(fc, path);
  if (open && opts.before_checkpoint)
    opts.before_checkpoint(path);
  auto frames = open ? sql::checkpoint_passive(*fc.db) : caf::expected<int>{caf::error{}};
  if (!open || !frames) {
    stats.checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
    fc.db.reset(); // a broken connection is reopened next time
  } else {
    stats.checkpoints.fetch_add(1, std::memory_order_relaxed);
    stats.checkpointed_frames.fetch_add(static_cast<uint64_t>(*frames),
                                        std::memory_order_relaxed);
    stats.checkpoint_latency.observe(std::chrono::duration<double>(clock::now() - start).count());
  }
  cmd.ticket.reset(); // done: the writer may finish the rest
}

// Starts the file's next job: `cmd` checkpoints; without one, the connection closes.
void start_job(checkpointer_self self, const std::string& path,
               std::optional<checkpoint_cmd> cmd) {
  auto& st = self->state;
  auto& e = st.files[path];
  e.busy = true;
  e.closing = !cmd;
  auto me = caf::actor_cast<checkpointer_actor>(self);
  auto fc = e.conn;
  auto c = cmd ? std::make_shared<checkpoint_cmd>(std::move(*cmd)) : nullptr;
  auto opts = st.opts;
  st.jobs.submit([me, fc, c, path, opts] {
    if (c)
      run_checkpoint(*fc, path, *c, *opts);
    else
      fc->db.reset();
    caf::anon_send(me, job_done_atom::value, path);
  });
}

void schedule_sweep(checkpointer_self self) {
  if (self->state.sweep_scheduled || self->state.files.empty())
    return;
  self->state.sweep_scheduled = true;
  self->delayed_send(self, self->state.opts->idle_close, reap_atom::value);
}

// A job of `path` ended: closes for waiting releases, or runs the next checkpoint.
void job_done(checkpointer_self self, const std::string& path) {
  auto& st = self->state;
  st.jobs.finished();
  auto i = st.files.find(path);
  if (i == st.files.end())
    return;
  auto& e = i->second;
  e.busy = false;
  if (e.closing) {
    e.closing = false;
    for (auto& p : e.releases)
      p.deliver(true);
    e.releases.clear();
    if (e.waiting.empty()) {
      st.files.erase(i);
      return;
    }
  } else if (!e.releases.empty()) {
    start_job(self, path, std::nullopt);
    return;
  }
  if (!e.waiting.empty()) {
    auto next = std::move(e.waiting.front());
    e.waiting.pop_front();
    start_job(self, path, std::move(next));
    return;
  }
  schedule_sweep(self);
}

// Closes the connections unused for idle_close (jobs), forgets files without one.
void reap(checkpointer_self self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  auto now = clock::now();
  std::vector<std::string> idle;
  for (auto& [path, e] : st.files)
    if (!e.busy && e.waiting.empty() && now - e.used >= st.opts->idle_close)
      idle.push_back(path);
  for (auto& path : idle) {
    if (st.files[path].conn->db)
      start_job(self, path, std::nullopt);
    else
      st.files.erase(path);
  }
  schedule_sweep(self);
}

checkpointer_actor::behavior_type checkpointer_impl(checkpointer_self self,
                                                    checkpointer_options opts) {
  auto& st = self->state;
  st.jobs = job_line{opts.pool, opts.max_running, caf::actor_addr{}};
  st.opts = std::make_shared<const checkpointer_options>(std::move(opts));
  return {
    [self](checkpoint_cmd& cmd) {
      auto& e = self->state.files[cmd.db_path];
      e.used = clock::now();
      if (e.busy) {
        e.waiting.push_back(std::move(cmd));
        return;
      }
      auto path = cmd.db_path;
      start_job(self, path, std::move(cmd));
    },
    [self](release_atom, const std::string& path) -> caf::result<bool> {
      // The tenant stopped: its file may be replaced (a restore), and a connection left
      // open on the old one would checkpoint into it, or delete the new WAL on close.
      auto i = self->state.files.find(path);
      if (i == self->state.files.end())
        return true;
      auto& e = i->second;
      e.waiting.clear(); // checkpoints of the old file
      if (!e.busy && !e.conn->db) {
        self->state.files.erase(i);
        return true;
      }
      auto promise = self->make_response_promise<bool>();
      e.releases.push_back(promise);
      if (!e.busy)
        start_job(self, path, std::nullopt);
      return promise;
    },
    [self](reap_atom) { reap(self); },
    [self](job_done_atom, const std::string& path) { job_done(self, path); },
  };
}

} // namespace

checkpointer_actor spawn_checkpointer(caf::actor_system& sys, checkpointer_options opts) {
  if (!opts.pool)
    opts.pool = default_storage_pool();
  return sys.spawn(checkpointer_impl, std::move(opts));
}

checkpointer_actor spawn_checkpointer(caf::actor_system& sys,
                                      std::chrono::milliseconds idle_close) {
  checkpointer_options opts;
  opts.idle_close = idle_close;
  return spawn_checkpointer(sys, std::move(opts));
}

} // namespace ebuse
