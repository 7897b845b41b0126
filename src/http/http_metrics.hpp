// HTTP figures: per-route requests by status class and latency, bytes, connections.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/metrics.hpp"

namespace ebuse {

/// The routes the server serves, for per-route figures.
enum class route : uint8_t {
  events_post,
  events_get,
  events_batch,
  events_stream,
  position,
  subscription_get,
  subscription_save,
  health,
  metrics,
  tenants,
  events_export,
  events_import,
  metrics_stream,
  admin_backup,
  dashboard,
  other, ///< unknown paths, methods, rejected before routing
};

/// Number of routes.
constexpr std::size_t route_count = static_cast<std::size_t>(route::other) + 1;

/// The stable label of `r`.
const char* route_name(route r) noexcept;

/// Classifies a request by method and path (the path as received).
route classify(std::string_view method, std::string_view path) noexcept;

/// Figures of one route.
struct route_metrics {
  std::array<std::atomic<uint64_t>, 5> by_class{}; ///< 1xx .. 5xx
  histogram latency = make_latency_histogram();     ///< seconds
};

/// Process-wide HTTP figures; every update is one relaxed atomic operation.
struct http_metrics {
  std::array<route_metrics, route_count> routes;
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  /// Records one finished request.
  void record(route r, int status, double seconds, uint64_t in, uint64_t out) noexcept;
};

/// Process-wide figures read from /proc.
struct process_figures {
  double uptime = 0;      ///< seconds since the HTTP metrics were created
  int64_t rss_bytes = 0;  ///< resident memory
  int64_t threads = 0;    ///< OS threads
};

/// Reads uptime (from `http.started`), RSS and threads.
process_figures read_process(const http_metrics& http);

/// Size of the file at `path`, 0 when it does not exist.
int64_t file_size(const std::string& path);

} // namespace ebuse
