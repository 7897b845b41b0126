// Lock-free metric primitives and the figures each actor and tenant publishes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ebuse {

/// A histogram over fixed bucket bounds: one relaxed atomic increment per observation,
/// no lock, no allocation. Bounds are in the unit of the observations.
class histogram {
public:
  static constexpr std::size_t max_buckets = 20;

  /// `bounds` ascending, at most max_buckets; an implicit +Inf bucket follows.
  histogram(const double* bounds, std::size_t n) noexcept;

  /// Records one observation.
  void observe(double value) noexcept;

  /// Number of finite bounds.
  std::size_t size() const noexcept {
    return n_;
  }
  /// Upper bound of bucket `i` (< size()).
  double bound(std::size_t i) const noexcept {
    return bounds_[i];
  }
  /// Observations in bucket `i` alone (i == size(): the +Inf bucket).
  uint64_t bucket(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }
  /// Number of observations.
  uint64_t count() const noexcept;
  /// Sum of observations.
  double sum() const noexcept;
  /// Estimated quantile `q` in [0, 1] by linear interpolation inside a bucket; 0 if empty.
  double quantile(double q) const noexcept;

private:
  const double* bounds_;
  std::size_t n_;
  std::array<std::atomic<uint64_t>, max_buckets + 1> counts_{};
  std::atomic<uint64_t> sum_micro_{0}; // sum in millionths, to stay an integer atomic
};

/// Estimated quantile `q` in [0, 1] of observations counted per bucket: `counts[i]` for
/// the bucket up to `bounds[i]` (i < n), `counts[n]` beyond the last bound. Linear
/// interpolation inside a bucket; 0 when there are none.
double quantile_of(const double* bounds, std::size_t n, const uint64_t* counts,
                   double q) noexcept;

/// Latency buckets in seconds, 50 µs .. 10 s.
histogram make_latency_histogram() noexcept;

/// Figures of one actor (or of a pool of like actors, summed).
struct actor_metrics {
  std::atomic<uint64_t> handled{0};      ///< messages handled
  std::atomic<int64_t> mailbox{0};       ///< messages waiting, seen at the last message
  std::atomic<int64_t> mailbox_peak{0};  ///< most messages ever seen waiting
  histogram handling = make_latency_histogram(); ///< seconds per message

  /// Notes that a message starts being handled with `waiting` more in the mailbox.
  void begin(std::size_t waiting) noexcept;
  /// Notes that it was handled in `seconds`.
  void end(double seconds) noexcept;
};

/// Times one message from construction to destruction.
class handling_scope {
public:
  handling_scope(actor_metrics& m, std::size_t waiting) noexcept
    : m_(m), start_(std::chrono::steady_clock::now()) {
    m_.begin(waiting);
  }
  ~handling_scope() {
    m_.end(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  handling_scope(const handling_scope&) = delete;
  handling_scope& operator=(const handling_scope&) = delete;

private:
  actor_metrics& m_;
  std::chrono::steady_clock::time_point start_;
};

/// Events per commit buckets: the group-commit size distribution.
histogram make_group_histogram() noexcept;

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
  actor_metrics writer;
  actor_metrics readers;                    ///< the reader pool, summed
  actor_metrics subscriptions;
};

} // namespace ebuse
