// The HTTP server's state, shared by the request pipeline (server.cpp) and the route
// table (server_routes.cpp). Internal to src/http.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include <httplib.h>

#include "actors/rate_limiter.hpp"
#include "actors/registry.hpp"
#include "http/config.hpp"
#include "http/connection.hpp"
#include "http/edge.hpp"
#include "http/errors.hpp"
#include "http/http_metrics.hpp"
#include "http/metrics_render.hpp"
#include "http/server.hpp"
#include "http/stop_signal.hpp"

namespace ebuse {

/// What a request carries from the pre-routing stage to its handler and log line.
struct request_scope {
  std::shared_ptr<tenant> t;
  bool admin = false; ///< an admin key, or public metrics: every tenant's figures
};

/// The current thread's request: each request runs start to finish on one worker
/// thread, so thread-local state is exact.
request_scope& current_scope() noexcept;

struct http_server::impl {
  server_config cfg;
  std::shared_ptr<tenant_registry> dir;
  std::shared_ptr<rate_limiter> limiter;
  connection_server svr; // deadlines, pipelining, header limits, Connection: close
  http_edge edge;
  std::atomic<bool> stopping{false};
  stop_signal stopped;
  http_metrics metrics;
  socket_t listen_fd = INVALID_SOCKET;

  impl(const server_config& c, std::shared_ptr<tenant_registry> d,
       std::shared_ptr<rate_limiter> l)
    : cfg(c), dir(std::move(d)), limiter(l), svr(connection_limits_of(c)),
      edge(c, std::move(l)) {
    configure();
    routes();
  }

  void reply_error(httplib::Response& res, errc code, std::string msg) {
    auto e = to_http_error(code, std::move(msg));
    send_json_error(res, e);
  }

  static void send_json_error(httplib::Response& res, const http_error& e) {
    res.status = e.status;
    res.set_content(e.body, "application/json");
  }

  /// The library's callbacks: limits, authentication, errors, the request log.
  void configure();

  /// Pre-routing after the edge: which key the path needs and whether it was given.
  httplib::Server::HandlerResponse authorize(const httplib::Request& req,
                                             httplib::Response& res);

  /// Registers every route.
  void routes();

  /// The figures /metrics shows: every tenant (`admin`) or the caller's.
  metrics_view view_for(bool admin, const std::shared_ptr<tenant>& caller) const;
};

} // namespace ebuse
