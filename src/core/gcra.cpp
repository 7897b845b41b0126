// One GCRA decision, with the figures of the RateLimit-* and Retry-After headers.
#include "core/gcra.hpp"

#include <algorithm>

namespace ebuse {

namespace {

int64_t ceil_seconds(int64_t ns) {
  return (ns + 999999999) / 1000000000;
}

} // namespace

gcra::gcra(rate_policy policy) noexcept
  : policy_(policy),
    interval_ns_(std::max<int64_t>(1, 1000000000 / std::max<int64_t>(1, policy.per_second))),
    capacity_ns_(interval_ns_ * std::max<int64_t>(1, policy.burst)) {
}

rate_decision gcra::decide(int64_t tat_ns, int64_t now_ns, int64_t& next_tat_ns) const noexcept {
  rate_decision d;
  d.limit = policy_.burst;
  int64_t base = std::max(tat_ns, now_ns);
  int64_t next = base + interval_ns_;
  if (next - now_ns > capacity_ns_) {
    d.allowed = false;
    d.remaining = 0;
    d.reset_seconds = ceil_seconds(base - now_ns);
    d.retry_after_seconds = std::max<int64_t>(1, ceil_seconds(next - now_ns - capacity_ns_));
    next_tat_ns = tat_ns;
    return d;
  }
  d.remaining = (capacity_ns_ - (next - now_ns)) / interval_ns_;
  d.reset_seconds = ceil_seconds(next - now_ns);
  next_tat_ns = next;
  return d;
}

} // namespace ebuse
