// GCRA arithmetic: a token bucket held in one number, its "theoretical arrival time".
#pragma once

#include <cstdint>

namespace ebuse {

/// A sustained rate and a burst; per_second == 0 disables the limit.
struct rate_policy {
  int64_t per_second = 0;
  int64_t burst = 1;
};

/// An answer of the limiter, with what `Retry-After` and `RateLimit-*` need.
struct rate_decision {
  bool allowed = true;
  int64_t limit = 0;               ///< bucket capacity (RateLimit-Limit)
  int64_t remaining = 0;           ///< requests left now (RateLimit-Remaining)
  int64_t reset_seconds = 0;       ///< until the bucket is full again (RateLimit-Reset)
  int64_t retry_after_seconds = 0; ///< when denied: until a request passes again, >= 1
};

/// The Generic Cell Rate Algorithm for one policy. A bucket is its "theoretical arrival
/// time" (TAT): a request at `now` passes if max(TAT, now) + T lies within burst * T of
/// now (T = 1 s / rate), and then moves TAT there. This is exactly a token bucket of
/// `burst` tokens refilled at `rate`; a TAT in the past is a full bucket.
class gcra {
public:
  explicit gcra(rate_policy policy) noexcept;

  /// Decides a request at `now_ns` against a bucket at `tat_ns`. When it is allowed,
  /// `next_tat_ns` receives the bucket's new TAT (unchanged when denied: a denial costs
  /// nothing).
  rate_decision decide(int64_t tat_ns, int64_t now_ns, int64_t& next_tat_ns) const noexcept;

private:
  rate_policy policy_;
  int64_t interval_ns_; ///< emission interval T = 1 s / rate
  int64_t capacity_ns_; ///< burst * T
};

} // namespace ebuse
