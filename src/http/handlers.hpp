// Route handlers: parse, send messages to the actors that own the data, await, render.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "actors/messages.hpp"
#include "actors/registry.hpp"
#include "actors/tenant.hpp"
#include "http/connection.hpp"
#include "http/errors.hpp"
#include "http/options.hpp"
#include "http/route_table.hpp"
#include "http/stop_signal.hpp"
#include "obs/http_metrics.hpp"

namespace ebuse {

/// What the server shares with every handler.
struct server_context {
  const http_options& opts;      ///< the server's settings
  tenant_registry& registry;     ///< the tenants
  const http_metrics& metrics;   ///< the HTTP figures
  const rate_limiter* limiter;   ///< null when rate limiting is off
  std::function<connection_counts()> connections; ///< the connections' figures now
  /// Raised when the server stops: responses that wait (live streams, a backup's copy)
  /// end then.
  stop_signal& stopped;
};

/// What a handler needs besides the request: the caller, the server, and the body (read
/// under MAX_BODY_BYTES, decompressed) for routes that take one.
struct request_context {
  std::shared_ptr<tenant> t; ///< the caller's tenant; null for an admin or public caller
  bool admin = false;        ///< an admin key, or public metrics: every tenant's figures
  const server_context& server;
  const route* entry = nullptr; ///< the route being served
  std::string body;
  /// The body as it arrives, for a route that streams its body (route_traits); else null.
  const httplib::ContentReader* reader = nullptr;

  /// REQUEST_TIMEOUT: how long a handler waits for an actor.
  std::chrono::nanoseconds timeout() const noexcept {
    return server.opts.request_timeout;
  }
};

/// Writes a JSON body with status 200 (or `status`).
void send_json(httplib::Response& res, std::string body, int status = 200);

/// Writes an error response; server-side errors are logged with their detail.
void send_error(const httplib::Request& req, httplib::Response& res, const caf::error& err);

/// Writes the response of a refusal of the HTTP layer.
void send_error(httplib::Response& res, http_errc code, std::string message);

/// Writes the 404 or 405 (with `Allow`) of a request the route table does not serve.
void send_unmatched(const httplib::Request& req, httplib::Response& res, const route_match& m);

/// POST /events
void handle_append(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// POST /events/batch
void handle_batch(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /events
void handle_load(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /events/stream
void handle_stream(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /subscriptions/{id}/position
void handle_subscription_get(const httplib::Request& req, httplib::Response& res,
                             request_context& ctx);
/// POST, PUT /subscriptions/{id}/position
void handle_subscription_save(const httplib::Request& req, httplib::Response& res,
                              request_context& ctx);

/// DELETE /subscriptions/{id}/position: forgets the stored position (204, also when none
/// was stored).
void handle_subscription_delete(const httplib::Request& req, httplib::Response& res,
                                request_context& ctx);
/// GET /events/export: NDJSON, one event per line, page by page.
void handle_export(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// POST /events/import: the NDJSON of an export into an empty tenant, read as it arrives
/// (ctx.reader).
void handle_import(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /admin/tenants/{name}/backup (admin key): a snapshot of the tenant's database.
void handle_backup(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /dashboard: the live dashboard page (needs no key; it asks for one).
void handle_dashboard(const httplib::Request& req, httplib::Response& res,
                      request_context& ctx);
/// GET /metrics/stream (admin key): the live figures, one snapshot a second (SSE).
void handle_metrics_stream(const httplib::Request& req, httplib::Response& res,
                           request_context& ctx);
/// GET /position
void handle_position(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// Whether the client asks for the Prometheus text format (`Accept`).
bool wants_prometheus(const httplib::Request& req);
/// Whether `r` answers `req` in the Prometheus text format (which METRICS_PUBLIC opens).
bool serves_prometheus(const httplib::Request& req, const route& r);
/// GET /metrics: JSON, or Prometheus text when the client asks for it
void handle_metrics(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /metrics/prometheus
void handle_prometheus(const httplib::Request& req, httplib::Response& res,
                       request_context& ctx);
/// GET /health
void handle_health(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /tenants
void handle_tenants(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// PUT /v1/stream/{path} (streams_handler.cpp)
void handle_stream_create(const httplib::Request& req, httplib::Response& res,
                          request_context& ctx);
/// POST /v1/stream/{path}
void handle_stream_append(const httplib::Request& req, httplib::Response& res,
                          request_context& ctx);
/// DELETE /v1/stream/{path}
void handle_stream_delete(const httplib::Request& req, httplib::Response& res,
                          request_context& ctx);
/// GET and HEAD /v1/stream/{path}: catch-up, offset=now, long-poll, SSE
/// (streams_read_handler.cpp)
void handle_stream_read(const httplib::Request& req, httplib::Response& res,
                        request_context& ctx);
/// OPTIONS /v1/stream/{path}: the CORS preflight (streams_http.cpp)
void handle_stream_preflight(const httplib::Request& req, httplib::Response& res,
                             request_context& ctx);

} // namespace ebuse
