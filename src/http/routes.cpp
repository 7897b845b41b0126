// Known paths and their methods.
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
  if (path.rfind("/v1/stream/", 0) == 0)
    return "GET, HEAD, POST, PUT, DELETE, OPTIONS";
  return nullptr;
}

bool is_metrics_path(const std::string& path) {
  return path == "/metrics" || path == "/metrics/prometheus";
}

} // namespace ebuse
