// What a tenant's actors publish for the HTTP layer: the committed head and their figures.
#pragma once

#include <atomic>
#include <cstdint>

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
  /// Long-polls and SSE readers waiting now; counted by the HTTP threads that wait, which
  /// hold the figures read-only.
  mutable std::atomic<int64_t> stream_waiting{0};
  actor_metrics writer;
  actor_metrics readers;                    ///< the reader pool, summed
  actor_metrics subscriptions;
};

} // namespace ebuse
