// What a tenant's actors publish for the HTTP layer: the committed head and their figures.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "obs/actor_metrics.hpp"
#include "obs/histogram.hpp"

namespace ebuse {

/// Everything a tenant's actors publish; read lock-free by the HTTP layer.
struct tenant_stats {
  std::atomic<int64_t> head{0};             ///< committed head position
  std::atomic<uint64_t> commits{0};         ///< successful transactions
  std::atomic<uint64_t> events_written{0};  ///< events in them
  std::atomic<uint64_t> failed_commits{0};  ///< transactions that failed
  std::atomic<uint64_t> max_group{0};       ///< largest group commit so far
  histogram group_events = make_group_histogram();    ///< events per commit
  histogram commit_latency = make_latency_histogram(); ///< seconds per transaction
  std::atomic<int64_t> wal_frames{0};       ///< WAL size (pages) after the last commit
  std::atomic<bool> checkpoint_pending{false}; ///< asked of the checkpointer, not done
  std::atomic<uint64_t> checkpoints{0};     ///< background checkpoints run
  std::atomic<uint64_t> checkpointed_frames{0}; ///< WAL frames they copied
  std::atomic<uint64_t> checkpoint_failures{0}; ///< checkpoints that failed (either kind)
  std::atomic<uint64_t> writer_checkpoints{0}; ///< run by the writer itself (far behind)
  histogram checkpoint_latency = make_latency_histogram(); ///< seconds per checkpoint
  std::atomic<uint64_t> pages{0};           ///< pages served by the readers
  std::atomic<uint64_t> rows{0};            ///< rows read by them
  std::atomic<uint64_t> stream_writes{0};   ///< Durable Streams writes committed
  std::atomic<uint64_t> stream_bytes_written{0}; ///< bytes they appended
  std::atomic<uint64_t> stream_reads{0};    ///< Durable Streams reads served
  std::atomic<uint64_t> stream_bytes_read{0};    ///< bytes they returned
  std::atomic<uint64_t> queued_events{0};   ///< appended events admitted, not yet answered
  std::atomic<uint64_t> queued_bytes{0};    ///< their size
  std::atomic<uint64_t> overload_refusals{0}; ///< appends refused for a full queue
  std::atomic<uint64_t> dropped_abandoned{0}; ///< appends dropped unwritten: waiter gone
  std::atomic<uint64_t> keys_swept{0};      ///< expired idempotency keys deleted
  /// Long-polls and SSE readers waiting now; counted by the HTTP threads that wait, which
  /// hold the figures read-only.
  mutable std::atomic<int64_t> stream_waiting{0};
  /// Long-polls and followers of the event log parked until its next commit.
  mutable std::atomic<int64_t> events_waiting{0};
  actor_metrics writer;
  actor_metrics readers;                    ///< the reader pool, summed
  actor_metrics subscriptions;

  /// Who saw a storage fault (storage_unavailable: I/O error, corrupt or not a database)
  /// that no later success of the same kind has cleared.
  enum fault_source : unsigned { writer_fault = 1, reader_fault = 2 };
  static constexpr unsigned retired_bit = 1u << 31;
  std::atomic<unsigned> faults{0};
  /// Tenants with a fault now, counted by every tenant of a registry (for an O(1)
  /// /health); may be null.
  std::shared_ptr<std::atomic<int64_t>> unhealthy;

  /// Raises `head` to `pos` unless it is there already (several nodes on PostgreSQL
  /// publish into it: the writer, readers that saw further, the listener); true when
  /// it rose. The published head never goes back.
  bool raise_head(int64_t pos) noexcept {
    auto cur = head.load(std::memory_order_acquire);
    while (cur < pos)
      if (head.compare_exchange_weak(cur, pos, std::memory_order_acq_rel))
        return true;
    return false;
  }

  /// Notes a fault of `source`; the first one makes the tenant count as unhealthy.
  void mark_fault(fault_source source) noexcept {
    if (faults.fetch_or(source, std::memory_order_acq_rel) == 0 && unhealthy)
      unhealthy->fetch_add(1, std::memory_order_relaxed);
  }

  /// Notes a success of `source`; clearing the last fault makes the tenant healthy.
  void clear_fault(fault_source source) noexcept {
    if (faults.load(std::memory_order_relaxed) == 0)
      return;
    if (faults.fetch_and(~unsigned{source}, std::memory_order_acq_rel) == source && unhealthy)
      unhealthy->fetch_sub(1, std::memory_order_relaxed);
  }

  /// The tenant stopped: it no longer counts, whatever its actors see on their way out.
  void retire_faults() noexcept {
    auto old = faults.fetch_or(retired_bit, std::memory_order_acq_rel);
    if (old != 0 && !(old & retired_bit) && unhealthy)
      unhealthy->fetch_sub(1, std::memory_order_relaxed);
  }
};

} // namespace ebuse
