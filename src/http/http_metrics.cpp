// Route classification and request accounting.
#include "http/http_metrics.hpp"
#include "http/routes.hpp"

#include <fstream>

#include <sys/stat.h>

namespace ebuse {

const char* route_name(route r) noexcept {
  switch (r) {
    case route::events_post: return "events_post";
    case route::events_get: return "events_get";
    case route::events_batch: return "events_batch";
    case route::events_stream: return "events_stream";
    case route::position: return "position";
    case route::subscription_get: return "subscription_get";
    case route::subscription_save: return "subscription_save";
    case route::health: return "health";
    case route::metrics: return "metrics";
    case route::tenants: return "tenants";
    case route::events_export: return "events_export";
    case route::events_import: return "events_import";
    case route::metrics_stream: return "metrics_stream";
    case route::admin_backup: return "admin_backup";
    case route::dashboard: return "dashboard";
    case route::other: return "other";
  }
  return "other";
}

route classify(std::string_view method, std::string_view path) noexcept {
  bool get = method == "GET" || method == "HEAD";
  bool post = method == "POST";
  if (path == "/events")
    return get ? route::events_get : post ? route::events_post : route::other;
  if (path == "/events/batch" && post)
    return route::events_batch;
  if (path == "/events/stream" && get)
    return route::events_stream;
  if (path == "/position" && get)
    return route::position;
  if (path == "/health" && get)
    return route::health;
  if ((path == "/metrics" || path == "/metrics/prometheus") && get)
    return route::metrics;
  if (path == "/tenants" && get)
    return route::tenants;
  if (path == "/events/export" && get)
    return route::events_export;
  if (path == "/events/import" && post)
    return route::events_import;
  if (path == "/metrics/stream" && get)
    return route::metrics_stream;
  if (path == "/dashboard" && get)
    return route::dashboard;
  if (get && !backup_tenant_of(path).empty())
    return route::admin_backup;
  constexpr std::string_view sub = "/subscriptions/";
  if (path.substr(0, sub.size()) == sub) {
    if (get)
      return route::subscription_get;
    if (post || method == "PUT")
      return route::subscription_save;
  }
  return route::other;
}

void http_metrics::record(route r, int status, double seconds, uint64_t in,
                          uint64_t out) noexcept {
  auto& m = routes[static_cast<std::size_t>(r)];
  int cls = status / 100;
  if (cls >= 1 && cls <= 5)
    m.by_class[static_cast<std::size_t>(cls - 1)].fetch_add(1, std::memory_order_relaxed);
  m.latency.observe(seconds);
  bytes_in.fetch_add(in, std::memory_order_relaxed);
  bytes_out.fetch_add(out, std::memory_order_relaxed);
}

process_figures read_process(const http_metrics& http) {
  process_figures p;
  p.uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - http.started)
               .count();
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      p.rss_bytes = std::stoll(line.substr(6)) * 1024;
    else if (line.rfind("Threads:", 0) == 0)
      p.threads = std::stoll(line.substr(8));
  }
  return p;
}

int64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

} // namespace ebuse
