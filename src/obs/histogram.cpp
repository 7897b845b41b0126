// Histogram bookkeeping and quantile estimates.
#include "obs/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace ebuse {

namespace {

constexpr double latency_bounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                     0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                     0.5,     1,      2.5,     5,      10};
constexpr double group_bounds[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000};

} // namespace

histogram::histogram(const double* bounds, std::size_t n) noexcept
  : bounds_(bounds), n_(std::min(n, max_buckets)) {
}

void histogram::observe(double value) noexcept {
  auto i = static_cast<std::size_t>(std::lower_bound(bounds_, bounds_ + n_, value) - bounds_);
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(static_cast<uint64_t>(std::llround(std::max(value, 0.0) * 1e6)),
                       std::memory_order_relaxed);
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

double quantile_of(const double* bounds, std::size_t n, const uint64_t* counts,
                   double q) noexcept {
  uint64_t total = 0;
  for (std::size_t i = 0; i <= n; ++i)
    total += counts[i];
  if (total == 0 || n == 0)
    return 0;
  auto rank = q * static_cast<double>(total);
  double seen = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    auto in_bucket = static_cast<double>(counts[i]);
    if (seen + in_bucket >= rank && in_bucket > 0) {
      if (i == n)
        return bounds[n - 1]; // beyond the last bound: report the bound
      double lo = i == 0 ? 0 : bounds[i - 1];
      return lo + (bounds[i] - lo) * ((rank - seen) / in_bucket);
    }
    seen += in_bucket;
  }
  return bounds[n - 1];
}

double histogram::quantile(double q) const noexcept {
  std::array<uint64_t, max_buckets + 1> counts{};
  for (std::size_t i = 0; i <= n_; ++i)
    counts[i] = bucket(i);
  return quantile_of(bounds_, n_, counts.data(), q);
}

histogram make_latency_histogram() noexcept {
  return histogram{latency_bounds, std::size(latency_bounds)};
}

histogram make_group_histogram() noexcept {
  return histogram{group_bounds, std::size(group_bounds)};
}

} // namespace ebuse
