// The tenant writer's state: the actor's side (order, groups) and the storage side its jobs run on (internal to actors/).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/messages.hpp"
#include "actors/stream_ops.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer.hpp"
#include "storage/log_writer.hpp"
#include "storage/worker_pool.hpp"
#include "storage/write_group.hpp"

namespace ebuse::writer {

/// One write waiting for the next commit: an append, a subscription save or a stream
/// operation.
struct pending_op {
  std::unique_ptr<stream_op> stream; ///< set for a stream operation
  append_request append;             ///< an append: its events and checks
  reply_to<append_result> reply;     ///< an append answered with its positions
  reply_to<append_outcome> outcome;  ///< an append answered with its whole outcome
  append_outcome result;             ///< an append, once its group committed
  bool is_subscription = false;
  subscription_write sub;
  caf::typed_response_promise<int64_t> sub_promise; ///< answered by the actor, not a job
  caf::error sub_error;                             ///< the subscription write's outcome
  uint64_t queued_events = 0; ///< counted into the queue by tenant::append
  uint64_t queued_bytes = 0;
};

/// The storage side of a writer: used only by the writer's job in flight (one at a time,
/// handed over through the pool's queue and the job_done message, which order every
/// access), never by the actor while a job runs.
struct writer_core {
  std::shared_ptr<log_writer> store;      ///< null once closed
  std::unique_ptr<stream_writer> streams; ///< null if its statements could not be prepared
  std::shared_ptr<tenant_stats> stats;
  writer_options opts;
  write_group group;                 ///< the group being applied, reused across groups
  bool checkpoint_requested = false; ///< a background pass was asked for this WAL
  int64_t next_own_checkpoint = 0;   ///< WAL size at which the writer checkpoints itself
  // -- results a job leaves for the actor
  std::vector<pending_op> batch;          ///< the ops of the group in flight
  bool may_expire = false;                ///< some stream can expire (after the job)
  std::chrono::milliseconds next_key_sweep{1000}; ///< after a key sweep job
};

/// A step of the writer's work, run as one job, in order.
struct step {
  enum class kind { group, import, key_sweep, close };
  kind k = kind::group;
  std::vector<pending_op> ops; ///< kind::group
  std::size_t events = 0;      ///< kind::group: events and other writes in it
  import_cmd import;           ///< kind::import
};

/// What a job leaves for the actor: the outcomes of a group's subscription saves (their
/// promises are the actor's), the end of a key sweep, or the close.
struct finished_step {
  step::kind k = step::kind::group;
  std::vector<pending_op> subs; ///< kind::group: its subscription saves, answered
  bool may_expire = false;      ///< kind::group: some stream can expire
  std::chrono::milliseconds next_key_sweep{1000}; ///< kind::key_sweep
};

/// The tenant's one ordered queue of writes, shared by the actor (every write but the
/// appends of writer_front), writer_front (appends, from any thread) and the job in
/// flight. Whoever queues a step while no job is in flight starts one; the job takes the
/// steps in order until the queue is empty, so every write of the tenant is applied in
/// the order it was queued, and at most one job uses the storage side at a time.
struct write_line {
  std::mutex mtx;
  std::deque<step> steps;              ///< waiting for the job, in order; guarded by mtx
  bool busy = false;                   ///< a job is queued or running; guarded by mtx
  bool closing = false;                ///< the close is queued: refuse writes; guarded
  std::deque<finished_step> finished;  ///< for the actor; guarded by mtx
  std::size_t max_group_events = 10000; ///< set before the line is shared
  std::shared_ptr<tenant_stats> stats;  ///< set before the line is shared
  std::shared_ptr<writer_core> core;   ///< used only by the job in flight
};

struct writer_state {
  std::shared_ptr<write_line> line;
  std::shared_ptr<tenant_stats> stats;
  std::shared_ptr<worker_pool> pool;
  std::chrono::milliseconds sweep_interval{1000};
  bool has_streams = false;
  bool may_expire = false;
  bool sweep_scheduled = false;   ///< a sweep_atom is on its way
  bool closing = false;           ///< the exit message came: refuse new writes
  caf::error exit_reason;

  static inline const char* name = "tenant_writer";
};

using writer_self = writer_actor::stateful_pointer<writer_state>;

/// The WAL size at which the writer checkpoints itself when the WAL is small.
int64_t own_checkpoint_base(const writer_core& c);

/// After a commit was answered: the WAL's upkeep (see tenant_writer_upkeep.cpp).
void after_commit(writer_core& c);

/// Deletes expired idempotency keys; sets c.next_key_sweep.
void sweep_keys(writer_core& c);

/// Commits c.batch and answers its requesters (all but subscription saves, whose
/// outcome lands in sub_error for the actor); then the WAL's upkeep (a job).
void commit_batch(writer_core& c);

/// Imports `cmd`'s chunk and answers it (a job).
void import_chunk(writer_core& c, import_cmd& cmd);

/// Checkpoints and closes the tenant's storage (a job).
void close_store(writer_core& c);

/// Takes an answered or dropped append out of the queue bounds.
void release(tenant_stats& stats, pending_op& op);

/// The pending write of an append command.
pending_op make_append_op(append_cmd& cmd);

/// Queues `op` behind every write queued before it (a new group once the last one is
/// full) and starts a job on `pool` unless one is in flight; `me` hears of the steps
/// that need the actor (job_done_atom). Refuses `op` once the close is queued.
/// `may_run_here`: the caller may block (not an actor), so on an idle line and an idle
/// pool it commits the first group itself (worker_pool::run_here_if_idle).
void queue_op(const std::shared_ptr<write_line>& line, worker_pool& pool,
              const writer_actor& me, pending_op op, bool may_run_here = false);

/// Queues a step of its own (an import, a key sweep, the close; closing marks the line
/// closing first) and starts a job unless one is in flight; false when the line is
/// closing (the step is not queued).
bool queue_step(const std::shared_ptr<write_line>& line, worker_pool& pool,
                const writer_actor& me, step s);

/// Answers a write that came after the close was queued: the tenant is stopping.
void refuse(tenant_stats& stats, pending_op& op);

/// Whether `op` is an append (not a subscription or stream write).
inline bool is_append(const pending_op& op) {
  return !op.stream && !op.is_subscription;
}

} // namespace ebuse::writer
