// A lock-free histogram over fixed bucket bounds, and the bounds ebuse uses.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>

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
  /// Smallest and largest observation (0 if empty).
  double min() const noexcept;
  double max() const noexcept;
  /// Estimated quantile `q` in [0, 1]: linear interpolation inside the bucket that
  /// holds it, over the part of the bucket between the smallest and largest
  /// observation, so that no estimate lies outside what was observed; 0 if empty.
  double quantile(double q) const noexcept;

private:
  const double* bounds_;
  std::size_t n_;
  std::array<std::atomic<uint64_t>, max_buckets + 1> counts_{};
  std::atomic<uint64_t> sum_micro_{0}; // sum in millionths, to stay an integer atomic
  std::atomic<double> min_;            // +inf while empty
  std::atomic<double> max_;            // -inf while empty
};

/// Estimated quantile `q` in [0, 1] of observations counted per bucket: `counts[i]` for
/// the bucket up to `bounds[i]` (i < n), `counts[n]` beyond the last bound. Linear
/// interpolation inside a bucket, clamped to the observed [lowest, highest] when they are
/// known (NaN `highest`: unknown; the last bound stands for everything beyond it); 0 when
/// there are none.
double quantile_of(const double* bounds, std::size_t n, const uint64_t* counts, double q,
                   double lowest = 0,
                   double highest = std::numeric_limits<double>::quiet_NaN()) noexcept;

/// Latency buckets in seconds, 50 µs .. 10 s.
histogram make_latency_histogram() noexcept;

/// Events per commit buckets: the group-commit size distribution.
histogram make_group_histogram() noexcept;

} // namespace ebuse
