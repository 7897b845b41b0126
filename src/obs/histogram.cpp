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

double histogram::quantile(double q) const noexcept {
  auto total = count();
  if (total == 0)
    return 0;
  // Read apart from the counts: an observation may land between the reads, so the
  // result is clamped to them once more at the end.
  double lowest = min(), highest = max();
  auto rank = q * static_cast<double>(total);
  double seen = 0;
  double estimate = highest;
  for (std::size_t i = 0; i <= n_; ++i) {
    auto in_bucket = static_cast<double>(bucket(i));
    if (seen + in_bucket >= rank && in_bucket > 0) {
      double lo = std::max(i == 0 ? lowest : bounds_[i - 1], lowest);
      double hi = std::min(i == n_ ? highest : bounds_[i], highest);
      estimate = lo + (std::max(hi, lo) - lo) * ((rank - seen) / in_bucket);
      break;
    }
    seen += in_bucket;
  }
  return std::clamp(estimate, lowest, std::max(lowest, highest));
}

histogram make_latency_histogram() noexcept {
  return histogram{latency_bounds, std::size(latency_bounds)};
}

histogram make_group_histogram() noexcept {
  return histogram{group_bounds, std::size(group_bounds)};
}

} // namespace ebuse
