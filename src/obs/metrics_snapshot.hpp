// The live metrics snapshot (GET /metrics/stream): figures copied at an instant, and a
// pure renderer that turns two such samples into rates and windowed percentiles.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "obs/histogram.hpp"

namespace ebuse {

/// A histogram's buckets at an instant.
struct histogram_sample {
  std::size_t n = 0;                                      ///< finite bounds
  std::array<double, histogram::max_buckets> bounds{};    ///< upper bounds
  std::array<uint64_t, histogram::max_buckets + 1> counts{}; ///< per bucket, +Inf last

  /// Copies the buckets of `h`.
  static histogram_sample of(const histogram& h) noexcept;
};

/// One actor (or pool of like actors).
struct actor_sample {
  std::string name;
  uint64_t handled = 0;
  int64_t mailbox = 0;
  int64_t mailbox_peak = 0;
  histogram_sample handling; ///< seconds
};

/// One configured tenant.
struct tenant_sample {
  std::string name;
  bool running = false;
  int64_t head = 0;
  uint64_t commits = 0;
  uint64_t events = 0;
  uint64_t failed_commits = 0;
  uint64_t max_group = 0;
  histogram_sample group;  ///< events per commit
  histogram_sample commit; ///< seconds per commit
  int64_t db_bytes = 0;
  int64_t wal_bytes = 0;
  std::vector<actor_sample> actors;
  /// Whether the subscription actor answered in time (else `subscriptions` is empty
  /// because it is unknown, not because there are none).
  bool subscriptions_known = false;
  int64_t subscriptions_total = 0;
  std::vector<std::pair<std::string, int64_t>> subscriptions; ///< furthest behind first
};

/// One route's requests.
struct route_sample {
  std::string name;
  std::array<uint64_t, 5> by_class{}; ///< 1xx .. 5xx
  histogram_sample latency;           ///< seconds
};

/// Every figure the dashboard shows, at one instant.
struct metrics_sample {
  double time = 0;   ///< Unix seconds
  double uptime = 0; ///< seconds
  int64_t rss_bytes = 0;
  int64_t threads = 0;
  int64_t tenants_active = 0;
  int64_t tenants_configured = 0;
  int64_t connections_open = 0;
  int64_t connections_idle = 0;
  int64_t connections_queued = 0;
  bool limiter = false; ///< rate limiting on
  uint64_t limiter_allowed = 0;
  uint64_t limiter_denied = 0;
  std::vector<tenant_sample> tenants;
  std::vector<route_sample> routes;
  std::vector<actor_sample> actors; ///< process-wide actors (registry, limiter)
};

/// The JSON snapshot of `now`, one line (no newline). Counters become rates per second
/// and histograms percentiles over the interval since `prev` (the previous tick of the
/// same stream; null for the first, whose rates are then 0 and whose percentiles cover
/// everything since start). A tenant that restarted (counters below `prev`'s) counts
/// from zero. Percentiles without observations in the interval are null.
std::string render_snapshot(const metrics_sample& now, const metrics_sample* prev);

} // namespace ebuse
