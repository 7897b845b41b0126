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
struct tenant_stats;

/// Tunables of the writer.
struct writer_options {
  /// A group is committed early once it holds this many events.
  std::size_t max_group_events = 10000;
  /// After a commit the writer spins this long for the next write (STORE_LINGER; see
  /// spin_for_mail()).
  std::chrono::microseconds spin{80};
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
  /// Called on the writer's thread before each group transaction begins, with the number
  /// of operations in it (tests hold a commit here to form the next group).
  std::function<void(std::size_t)> before_commit;
};

/// Spawns a detached writer that serializes every write of one tenant, on any storage
/// (log_writer). Appends and subscription saves waiting in its mailbox are written in
/// one transaction (log_writer::apply), each append checked in mailbox order against
/// its expected head and idempotency key; every
/// requester is answered only after COMMIT succeeded. After each commit it publishes
/// the committed head in `stats`.
///
/// Handles writer_actor's messages (messages.hpp); stream writes and touches join the
/// same groups as appends. Once the WAL passed its threshold
/// (store_options::wal_autocheckpoint) it has the checkpointer copy the WAL into the
/// database in the background, then finishes the (by then small) rest itself so that
/// the next transaction restarts the WAL.
/// On an exit message it commits what is pending, checkpoints, then stops.
writer_actor spawn_tenant_writer(caf::actor_system& sys, std::shared_ptr<log_writer> store,
                                 std::shared_ptr<tenant_stats> stats, writer_options opts);

} // namespace ebuse
