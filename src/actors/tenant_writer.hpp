// The tenant writer: sole owner of a tenant's read-write connection, with group commit.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

class log_writer;
class stream_signal;
class worker_pool;
struct tenant_stats;

namespace writer {
struct write_line;
} // namespace writer

/// STORAGE_WORKERS by default: two cores, plus room for jobs blocked in fsync.
constexpr std::size_t default_storage_workers = 4;

/// The process-wide storage pool of default_storage_workers threads, for writers given
/// none (tools and tests); the server passes its own (STORAGE_WORKERS).
std::shared_ptr<worker_pool> default_storage_pool();

/// Tunables of the writer.
struct writer_options {
  /// A group is committed early once it holds this many events.
  std::size_t max_group_events = 10000;
  /// Where the writer's storage jobs run (commits, checkpoints, sweeps, the close),
  /// shared by every tenant; null: default_storage_pool().
  std::shared_ptr<worker_pool> pool;
  /// Where WAL checkpoints run (spawn_checkpointer); without one the writer runs them
  /// itself, after answering the group that filled the WAL.
  checkpointer_actor checkpointer;
  /// Bounds of the tenant's Durable Streams.
  stream_limits streams;
  /// Woken after each commit with the streams it changed (may be null).
  std::shared_ptr<stream_signal> signal;
  /// How often expired streams are swept while some stream can expire.
  std::chrono::milliseconds sweep_interval{1000};
  /// How long an idempotency key is kept (IDEMPOTENCY_TTL); expired ones are swept in
  /// the background, the first sweep right after the writer starts.
  std::chrono::milliseconds idempotency_ttl = std::chrono::hours(24);
  /// Bounds of the queue of appends admitted by tenant::append and not yet answered
  /// (WRITER_QUEUE_EVENTS, WRITER_QUEUE_BYTES): beyond them an append is refused
  /// (errc::overloaded) and nothing of it is written. One append alone is always
  /// admitted, whatever its size.
  uint64_t queue_events = 100000;
  uint64_t queue_bytes = uint64_t{256} << 20;
  /// Called on the storage worker running a group's job before its transaction begins,
  /// with the number of operations in it (tests hold a commit here to form the next group).
  std::function<void(std::size_t)> before_commit;
};

/// The thread-safe front door of a tenant writer. An append taken here joins the
/// tenant's one ordered queue of writes (the queue the actor puts every other write in)
/// without a message to the actor, and the caller starts the commit job itself when none
/// is in flight: an HTTP thread's append reaches a storage worker in one hand-off.
class writer_front {
public:
  /// The front of the writer `actor` (told of the steps that need it) with its `line`.
  writer_front(std::shared_ptr<writer::write_line> line, std::shared_ptr<worker_pool> pool,
               writer_actor actor);
  ~writer_front();

  /// Queues `cmd` behind every write of the tenant queued before it, as the actor's
  /// append_cmd handler does; answered on cmd.reply or cmd.outcome after COMMIT
  /// (errc::storage_unavailable once the writer is stopping).
  void append(append_cmd cmd);

private:
  std::shared_ptr<writer::write_line> line_;
  std::shared_ptr<worker_pool> pool_;
  writer_actor actor_;
};

/// A tenant writer and its front door.
struct spawned_writer {
  writer_actor actor;
  std::shared_ptr<writer_front> front;
};

/// Spawns a cooperative writer that serializes every write of one tenant, on any storage
/// (log_writer). It never blocks: each use of the storage is a job on `opts.pool`, one
/// at a time per tenant. Appends and subscription saves that arrive while no commit is
/// in flight, or while one is, are written in one transaction (log_writer::apply), each
/// append checked in the order of the tenant's write queue (writer::write_line, which
/// writer_front's appends join directly) against its expected head and idempotency key; every
/// requester is answered only after COMMIT succeeded (appends and stream writes by the
/// job itself). After each commit it publishes the committed head in `stats`.
/// Opens the streams' statements on the calling thread (a tenant start job).
///
/// Handles writer_actor's messages (messages.hpp); stream writes and touches join the
/// same groups as appends. Once the WAL passed its threshold
/// (store_options::wal_autocheckpoint) it has the checkpointer copy the WAL into the
/// database in the background, then finishes the (by then small) rest itself so that
/// the next transaction restarts the WAL.
/// On an exit message it finishes the job in flight, commits what is pending,
/// checkpoints and closes the storage (as jobs), then quits; writes arriving after the
/// exit message are refused (errc::storage_unavailable).
writer_actor spawn_tenant_writer(caf::actor_system& sys, std::shared_ptr<log_writer> store,
                                 std::shared_ptr<tenant_stats> stats, writer_options opts);

/// As spawn_tenant_writer(), with the writer's front door for appends from any thread.
spawned_writer spawn_writer_with_front(caf::actor_system& sys,
                                       std::shared_ptr<log_writer> store,
                                       std::shared_ptr<tenant_stats> stats,
                                       writer_options opts);

} // namespace ebuse
