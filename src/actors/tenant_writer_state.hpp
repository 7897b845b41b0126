// The tenant writer's state: the actor's side (order, groups) and the storage side its jobs run on (internal to actors/).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
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

struct writer_state {
  std::shared_ptr<writer_core> core;
  std::shared_ptr<tenant_stats> stats;
  std::shared_ptr<worker_pool> pool;
  std::size_t max_group_events = 10000;
  std::chrono::milliseconds sweep_interval{1000};
  bool has_streams = false;
  bool may_expire = false;
  std::deque<step> steps;         ///< waiting for a job, in order
  bool busy = false;              ///< a job is in flight
  step::kind running = step::kind::group; ///< the kind of the job in flight
  bool flush_scheduled = false;
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

/// Whether `op` is an append (not a subscription or stream write).
inline bool is_append(const pending_op& op) {
  return !op.stream && !op.is_subscription;
}

} // namespace ebuse::writer
