// The routes of the API and the pure matcher over them.
#include "http/route_table.hpp"

#include <algorithm>
#include <cstring>

#include "http/handlers.hpp"

namespace ebuse {

namespace {

// Every path the server serves. Routes of one path share authentication and limits;
// the order of first appearance orders the metrics labels.
std::vector<route> make_routes() {
  constexpr auto tenant = auth_kind::tenant;
  constexpr auto metrics = auth_kind::metrics;
  constexpr auto admin = auth_kind::admin;
  constexpr std::string_view sub = "/subscriptions/", pos = "/position";
  constexpr std::string_view sub_doc = "/subscriptions/{id}/position";
  constexpr std::string_view backup = "/admin/tenants/", backup_suffix = "/backup";
  constexpr std::string_view backup_doc = "/admin/tenants/{name}/backup";
  // The stream API: one prefix, a route per method.
  auto ds = [](uint8_t methods, route_handler handler, const char* label) {
    return route{"/v1/stream/", {}, "/v1/stream/{path}", methods, handler, label,
                 auth_kind::stream, true, false, prefix_path};
  };
  return {
    // path, suffix, doc, methods, handler, label, auth, rate limited, multi-tenant only,
    // traits
    {"/events", {}, "/events", post, handle_append, "events_post", tenant, true, false},
    {"/events", {}, "/events", get, handle_load, "events_get", tenant, true, false},
    {"/events/batch", {}, "/events/batch", post, handle_batch, "events_batch", tenant, true,
     false},
    {"/events/stream", {}, "/events/stream", get, handle_stream, "events_stream", tenant,
     true, false},
    {"/events/export", {}, "/events/export", get, handle_export, "events_export", tenant,
     true, false},
    {"/events/import", {}, "/events/import", post, handle_import, "events_import", tenant,
     true, false, streamed_body},
    {"/position", {}, "/position", get, handle_position, "position", tenant, true, false},
    {sub, pos, sub_doc, get, handle_subscription_get, "subscription_get", tenant, true,
     false},
    {sub, pos, sub_doc, post | put, handle_subscription_save, "subscription_save", tenant,
     true, false},
    {sub, pos, sub_doc, del, handle_subscription_delete, "subscription_delete", tenant, true,
     false},
    {"/health", {}, "/health", get, handle_health, "health", auth_kind::none, false, false},
    {"/metrics", {}, "/metrics", get, handle_metrics, "metrics", metrics, true, false},
    {"/metrics/prometheus", {}, "/metrics/prometheus", get, handle_prometheus, "metrics",
     metrics, true, false},
    {"/metrics/stream", {}, "/metrics/stream", get, handle_metrics_stream, "metrics_stream",
     admin, true, false},
    {"/tenants", {}, "/tenants", get, handle_tenants, "tenants", auth_kind::admin_or_tenant,
     true, true},
    {backup, backup_suffix, backup_doc, get, handle_backup, "admin_backup", admin, true, false},
    // Every other path under /admin/ is the operators' too: a 404 behind an admin key.
    {"/admin/", {}, "/admin/...", 0, nullptr, nullptr, admin, true, false, prefix_path},
    {"/dashboard", {}, "/dashboard", get, handle_dashboard, "dashboard", auth_kind::none, true,
     false},
    ds(put, handle_stream_create, "stream_create"),
    ds(post, handle_stream_append, "stream_append"),
    ds(get | head, handle_stream_read, "stream_read"),
    ds(del, handle_stream_delete, "stream_delete"),
    ds(options, handle_stream_preflight, nullptr),
  };
}

struct table {
  std::vector<route> routes = make_routes();
  std::vector<const char*> labels;

  table() {
    for (auto& r : routes) {
      if (!r.label)
        continue;
      auto i = std::find_if(labels.begin(), labels.end(),
                            [&](const char* l) { return std::strcmp(l, r.label) == 0; });
      r.label_index = static_cast<std::size_t>(i - labels.begin());
      if (i == labels.end())
        labels.push_back(r.label);
    }
    for (auto& r : routes)
      if (!r.label)
        r.label_index = labels.size();
    labels.push_back("other");
  }
};

const table& the_table() {
  static const table t;
  return t;
}

// "GET, POST" for the bits of `methods`.
std::string allow_text(uint8_t methods) {
  std::string out;
  for (auto [bit, name] : {std::pair{get, "GET"}, {head, "HEAD"}, {post, "POST"}, {put, "PUT"},
                           {del, "DELETE"}, {options, "OPTIONS"}}) {
    if (!(methods & bit))
      continue;
    if (!out.empty())
      out += ", ";
    out += name;
  }
  return out;
}

} // namespace

uint8_t method_bit(std::string_view method) noexcept {
  if (method == "GET" || method == "HEAD")
    return get;
  if (method == "POST")
    return post;
  if (method == "PUT")
    return put;
  if (method == "DELETE")
    return del;
  if (method == "OPTIONS")
    return options;
  return 0;
}

bool route::matches(std::string_view p) const noexcept {
  if (prefix())
    return p.substr(0, path.size()) == path;
  if (suffix.empty())
    return p == path;
  return p.size() >= path.size() + suffix.size() && p.substr(0, path.size()) == path
         && p.substr(p.size() - suffix.size()) == suffix;
}

std::string_view route::id_of(std::string_view p) const noexcept {
  if ((suffix.empty() && !prefix()) || !matches(p))
    return {};
  return p.substr(path.size(), p.size() - path.size() - suffix.size());
}

bool route::is_bare_prefix(std::string_view p) const noexcept {
  // A namespace row (no methods) reaches only the paths under it.
  return prefix() && methods != 0 && !path.empty() && p == path.substr(0, path.size() - 1);
}

const std::vector<route>& routes() {
  return the_table().routes;
}

const std::vector<const char*>& route_labels() {
  return the_table().labels;
}

std::size_t other_label_index() noexcept {
  return the_table().labels.size() - 1;
}

std::size_t route_match::label_index() const noexcept {
  return status == 200 ? entry->label_index : other_label_index();
}

auth_kind route_match::auth() const noexcept {
  return entry ? entry->auth : auth_kind::tenant;
}

bool route_match::rate_limited() const noexcept {
  return entry ? entry->rate_limited : true;
}

route_match match(std::string_view method, std::string_view path, bool multi_tenant) {
  route_match m;
  uint8_t bit = method_bit(method);
  uint8_t allowed = 0;
  for (const auto& r : routes()) {
    if (!r.matches(path))
      continue;
    m.entry = &r;
    if (r.multi_tenant_only && !multi_tenant)
      continue; // does not exist in this mode: a 404 with this route's rules
    if (r.methods & bit) {
      m.status = 200;
      return m;
    }
    allowed |= r.methods;
  }
  if (allowed) {
    m.status = 405;
    m.allow = allow_text(allowed);
    return m;
  }
  if (!m.entry) {
    // A path under a route that lacks its suffix, or a prefix route's bare path.
    for (const auto& r : routes())
      if ((!r.suffix.empty() && (r.methods & bit) && path.substr(0, r.path.size()) == r.path)
          || r.is_bare_prefix(path))
        return route_match{404, &r, {}};
  }
  return m;
}

std::string clean_path(std::string_view path) {
  std::string out = "/";
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/')
      ++i;
    auto end = path.find('/', i);
    if (end == std::string_view::npos)
      end = path.size();
    auto seg = path.substr(i, end - i);
    i = end;
    if (seg.empty() || seg == ".")
      continue;
    if (seg == "..") {
      // Back to the slash before the last segment; at the root there is none to drop.
      if (out.size() > 1) {
        out.pop_back();
        out.erase(out.rfind('/') + 1);
      }
      continue;
    }
    out.append(seg).push_back('/');
  }
  // `out` ends in a slash: keep it only where the path had one (and for the root).
  bool trailing = !path.empty() && path.back() == '/';
  if (out.size() > 1 && !trailing)
    out.pop_back();
  return out;
}

bool is_clean_path(std::string_view path) noexcept {
  if (path.empty() || path[0] != '/')
    return false;
  for (std::size_t i = 0; i < path.size();) {
    auto end = path.find('/', i + 1);
    if (end == std::string_view::npos)
      end = path.size();
    auto seg = path.substr(i + 1, end - i - 1); // after the slash at i
    bool last = end == path.size();
    if ((seg.empty() && !last) || seg == "." || seg == "..")
      return false;
    i = end;
  }
  return true;
}

std::string unmatched_message(const route_match& m, std::string_view method,
                              std::string_view path) {
  if (m.status == 405)
    return "method " + std::string{method} + " not allowed; allowed: " + m.allow;
  if (m.entry && !m.entry->suffix.empty())
    return "no such path; expected " + std::string{m.entry->doc};
  return "no such path: " + std::string{path};
}

} // namespace ebuse
