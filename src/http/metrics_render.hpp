// /metrics as JSON (the original's fields first) and in Prometheus text format 0.0.4.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actors/rate_limiter.hpp"
#include "actors/registry.hpp"
#include "obs/http_metrics.hpp"

namespace ebuse {

/// What a metrics response shows.
struct metrics_view {
  /// The caller's tenant (tenant view); null for the admin or public view.
  std::shared_ptr<tenant> caller;
  /// Tenants whose figures are shown: the caller's, or every running one.
  std::vector<std::shared_ptr<tenant>> tenants;
  /// Configured tenant names (admin view lists idle ones too).
  std::vector<std::string> configured;
  const registry_stats* registry = nullptr;
  const http_metrics* http = nullptr;
  connection_counts connections;
  const rate_limiter* limiter = nullptr; ///< null when rate limiting is off
  bool multi_tenant = false;
};

/// The JSON document of GET /metrics.
std::string render_metrics_json(const metrics_view& v);

/// The Prometheus text exposition (version 0.0.4).
std::string render_prometheus(const metrics_view& v);

} // namespace ebuse
