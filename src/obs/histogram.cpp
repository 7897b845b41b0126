// Histogram bookkeeping and quantile estimates.
#include "obs/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ebuse {

namespace {

constexpr double latency_bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                     0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                     0.5,     1,      2.5,     5,      10};
constexpr double group_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

} // namespace

histogram::histogram(const double* bounds, std::size_t n) noexcept
  : bounds_(bounds),
    n_(std::min(n, max_buckets)),
    min_(std::numeric_limits<double>::infinity()),
    max_(-std::numeric_limits<double>::infinity()) {
}

void histogram::observe(double value) noexcept {
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_, bounds_ + n_, value) - bounds_);
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<uint64_t>(std::llround(std::max(value, 0.0) * 1e6)),
                       std::memory_order_relaxed);
  // A new extreme is rare: after the first observations these are two loads.
  for (double lo = min_.load(std::memory_order_relaxed);
       value < lo && !min_.compare_exchange_weak(lo, value, std::memory_order_relaxed);) {
  }
  for (double hi = max_.load(std::memory_order_relaxed);
       value > hi && !max_.compare_exchange_weak(hi, value, std::memory_order_relaxed);) {
  }
}

double histogram::min() const noexcept {
  double v = min_.load(std::memory_order_relaxed);
  return std::isinf(v) ? 0 : v;
}

double histogram::max() const noexcept {
  double v = max_.load(std::memory_order_relaxed);
  return std::isinf(v) ? 0 : v;
}

uint64_t histogram::count() const noexcept {
  uint64_t total = 0;
  for (std::size_t i = 0; i <= n_; ++i)
    total += bucket(i);
  return total;
}

double histogram::sum() const noexcept {
  return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

double quantile_of(const double* bounds, std::size_t n, const uint64_t* counts, double q,
                   double lowest, double highest) noexcept {
  uint64_t total = 0;
  for (std::size_t i = 0; i <= n; ++i)
    total += counts[i];
  if (total == 0 || n == 0)
    return 0;
  if (std::isnan(highest))
    highest = bounds[n - 1]; // unknown extremes: beyond the last bound reads as the bound
  auto rank = q * static_cast<double>(total);
  double seen = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    auto in_bucket = static_cast<double>(counts[i]);
    if (seen + in_bucket >= rank && in_bucket > 0) {
      double lo = std::max(i == 0 ? lowest : bounds[i - 1], lowest);
      double hi = std::min(i == n ? highest : bounds[i], highest);
      return std::clamp(lo + (std::max(hi, lo) - lo) * ((rank - seen) / in_bucket), lowest,
                        std::max(lowest, highest));
    }
    seen += in_bucket;
  }
  return std::clamp(highest, lowest, std::max(lowest, highest));
}

double histogram::quantile(double q) const noexcept {
  std::array<uint64_t, max_buckets + 1> counts{};
  for (std::size_t i = 0; i <= n_; ++i)
    counts[i] = bucket(i);
  // Read apart from the counts: an observation may land between the reads, so the
  // result is clamped to them.
  return quantile_of(bounds_, n_, counts.data(), q, min(), max());
}

histogram make_latency_histogram() noexcept {
  return histogram{latency_bounds, std::size(latency_bounds)};
}

histogram make_group_histogram() noexcept {
  return histogram{group_bounds, std::size(group_bounds)};
}

} // namespace ebuse
