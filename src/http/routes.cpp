// Known paths and their methods; the connection-counting worker pool.
#include "http/routes.hpp"

#include <string_view>

namespace ebuse {

namespace {

struct route_info {
  const char* path;
  const char* allow;
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace

const char* allowed_methods(const std::string& path, bool multi_tenant) {
  if (path == "/tenants")
    return multi_tenant ? "GET" : nullptr;
  static const route_info routes[] = {
    {"/events", "GET, POST"}, {"/events/batch", "POST"}, {"/events/stream", "GET"},
    {"/position", "GET"},     {"/health", "GET"},        {"/metrics", "GET"},
    {"/metrics/prometheus", "GET"},
  };
  for (const auto& r : routes)
    if (path == r.path)
      return r.allow;
  if (path.rfind("/subscriptions/", 0) == 0 && ends_with(path, "/position"))
    return "GET, POST, PUT";
  return nullptr;
}

bool is_metrics_path(const std::string& path) {
  return path == "/metrics" || path == "/metrics/prometheus";
}

counting_pool::counting_pool(int threads, http_metrics& m)
  : pool_(static_cast<size_t>(threads)), m_(m) {
}

void counting_pool::enqueue(std::function<void()> fn) {
  m_.connections.fetch_add(1, std::memory_order_relaxed);
  m_.queued_connections.fetch_add(1, std::memory_order_relaxed);
  pool_.enqueue([this, fn = std::move(fn)] {
    m_.queued_connections.fetch_sub(1, std::memory_order_relaxed);
    m_.open_connections.fetch_add(1, std::memory_order_relaxed);
    fn();
    m_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  });
}

void counting_pool::shutdown() {
  pool_.shutdown();
}

} // namespace ebuse
