// The route table: every path the server serves, its methods, handler, metrics label,
// authentication and rate limiting, written once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace httplib {
struct Request;
struct Response;
} // namespace httplib

namespace ebuse {

struct request_context;

/// The methods a route serves, as a bit set. HEAD is served wherever GET is; the `head`
/// bit only names it in `Allow` (the stream API lists it, as its protocol does).
enum method_bits : uint8_t { get = 1, post = 2, put = 4, del = 8, options = 16, head = 32 };

/// The method bit of `method` (HEAD: GET), 0 for a method no route serves.
uint8_t method_bit(std::string_view method) noexcept;

/// Who may call a route.
enum class auth_kind : uint8_t {
  none,            ///< anyone (/health, /dashboard)
  tenant,          ///< a tenant's API key
  admin,           ///< an admin key only; a tenant's key is refused with 403
  admin_or_tenant, ///< a tenant's key (its own tenant), or an admin key (every tenant)
  metrics,         ///< as admin_or_tenant; Prometheus scrapes need no key under METRICS_PUBLIC
  /// The Durable Streams API: a tenant's key, or none for the tenant DS_ANONYMOUS_TENANT
  /// names (when set); CORS preflights (OPTIONS) need none. Every response of such a
  /// route carries the protocol's common headers, and its content type is its own.
  stream,
};

/// What else a route needs, as a bit set.
enum route_traits : uint8_t {
  prefix_path = 1,   ///< `path` + anything: the rest is the id (the stream path)
  streamed_body = 2, ///< the handler reads the body as it arrives (request_context::reader);
                     ///< MAX_BODY_BYTES does not bound the whole
};

/// Serves a request that matched its route.
using route_handler = void (*)(const httplib::Request&, httplib::Response&, request_context&);

/// One route: a path pattern and what serving it takes.
struct route {
  /// The exact path; with a suffix, the prefix of a path `path` + id + `suffix`; with
  /// `prefix_path`, the prefix of a path `path` + id.
  std::string_view path;
  std::string_view suffix;
  std::string_view doc;  ///< the path as the API documentation writes it
  uint8_t methods;       ///< method_bits; none: a namespace whose rules its unknown paths take
  route_handler handler; ///< null for a namespace
  /// Metrics label (a route per method may share a path); nullptr: counted as "other",
  /// as a CORS preflight is.
  const char* label;
  auth_kind auth;
  bool rate_limited;     ///< per client, and per key once authenticated
  bool multi_tenant_only;
  uint8_t traits = 0;    ///< route_traits
  std::size_t label_index = 0; ///< position of `label` in route_labels()

  /// Whether the route is `path` + anything.
  bool prefix() const noexcept {
    return traits & prefix_path;
  }

  /// Whether its handler reads the body itself, as it arrives.
  bool streams_body() const noexcept {
    return traits & streamed_body;
  }

  /// Whether `p` has this route's pattern.
  bool matches(std::string_view p) const noexcept;

  /// The variable part of a route's path (the subscription id, the stream path), else
  /// empty.
  std::string_view id_of(std::string_view p) const noexcept;

  /// Whether `p` is this prefix route's path without its last `/` (`/v1/stream`).
  bool is_bare_prefix(std::string_view p) const noexcept;
};

/// Every route, in the order of the metrics labels.
const std::vector<route>& routes();

/// The distinct labels of the routes in table order, then "other" for everything else.
const std::vector<const char*>& route_labels();

/// The index of "other" in route_labels().
std::size_t other_label_index() noexcept;

/// What the table says about a request.
struct route_match {
  /// 200: served by `entry`. 405: the path exists, not with this method; `entry` is one
  /// of the path's (they share authentication and limits) and `allow` lists the methods.
  /// 404: no such path; `entry`, when set, is the route the path nearly is (a route
  /// without its suffix, a prefix route's bare path, or a route of multi-tenant mode),
  /// whose authentication and limits apply to the refusal.
  int status = 404;
  const route* entry = nullptr;
  std::string allow;

  /// The metrics label: the route's when served, else "other".
  std::size_t label_index() const noexcept;

  /// How the caller must authenticate: the route's, a tenant key for unknown paths.
  auth_kind auth() const noexcept;

  /// Whether the request counts against the rate limits.
  bool rate_limited() const noexcept;
};

/// Matches a request line against the table; pure.
route_match match(std::string_view method, std::string_view path, bool multi_tenant);

/// The path as Go's ServeMux cleans it before routing (the original answered an unclean
/// path with a redirect to the clean one; this server serves the clean one at once):
/// repeated slashes become one, `.` segments go, `..` removes the segment before it (never
/// past the root), and a trailing slash stays. `//position` → `/position`,
/// `/events//stream` → `/events/stream`, `/a/../position/` → `/position/`.
std::string clean_path(std::string_view path);

/// Whether clean_path(`path`) is `path` itself (no copy needed): nearly every request.
bool is_clean_path(std::string_view path) noexcept;

/// The message of the 404 or 405 answering `m`.
std::string unmatched_message(const route_match& m, std::string_view method,
                              std::string_view path);

} // namespace ebuse
