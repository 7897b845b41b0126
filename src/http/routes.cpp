// Known paths, their methods and the keys they need.
#include "http/routes.hpp"

namespace ebuse {

namespace {

struct route_info {
  const char* path;
  const char* allow;
};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

constexpr std::string_view admin_tenants = "/admin/tenants/";
constexpr std::string_view backup_suffix = "/backup";

} // namespace

const char* allowed_methods(const std::string& path, bool multi_tenant) {
  if (path == "/tenants")
    return multi_tenant ? "GET" : nullptr;
  static const route_info routes[] = {
    {"/events", "GET, POST"},       {"/events/batch", "POST"},
    {"/events/stream", "GET"},      {"/events/export", "GET"},
    {"/events/import", "POST"},     {"/position", "GET"},
    {"/health", "GET"},             {"/metrics", "GET"},
    {"/metrics/prometheus", "GET"}, {"/metrics/stream", "GET"},
    {"/dashboard", "GET"},
  };
  for (const auto& r : routes)
    if (path == r.path)
      return r.allow;
  if (path.rfind("/subscriptions/", 0) == 0 && ends_with(path, "/position"))
    return "GET, POST, PUT";
  if (!backup_tenant_of(path).empty())
    return "GET";
  return nullptr;
}

bool is_metrics_path(const std::string& path) {
  return path == "/metrics" || path == "/metrics/prometheus";
}

route_access access_of(const std::string& path) {
  if (path == "/health" || path == "/dashboard")
    return route_access::open;
  if (is_metrics_path(path) || path == "/tenants")
    return route_access::tenant_or_admin;
  if (path == "/metrics/stream" || path.rfind("/admin/", 0) == 0)
    return route_access::admin;
  return route_access::tenant;
}

std::string_view backup_tenant_of(std::string_view path) {
  if (path.size() <= admin_tenants.size() + backup_suffix.size()
      || path.substr(0, admin_tenants.size()) != admin_tenants || !ends_with(path, backup_suffix))
    return {};
  auto name = path.substr(admin_tenants.size(),
                          path.size() - admin_tenants.size() - backup_suffix.size());
  if (name.empty() || name.find('/') != std::string_view::npos)
    return {};
  return name;
}

} // namespace ebuse
