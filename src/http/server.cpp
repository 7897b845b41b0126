// The request pipeline: limits, authentication, errors, logging; the server's lifecycle.
#include "http/server.hpp"

#include <charconv>
#include <limits>
#include <chrono>
#include <string_view>

#include <sys/socket.h>

#include <httplib.h>

#include "http/auth.hpp"
#include "http/codec.hpp"
#include "http/handlers.hpp"
#include "http/logger.hpp"
#include "http/routes.hpp"
#include "http/server_impl.hpp"

namespace ebuse {

namespace {

thread_local request_scope current;

template <class Duration>
void split(Duration d, time_t& sec, time_t& usec) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  sec = static_cast<time_t>(us / 1000000);
  usec = static_cast<time_t>(us % 1000000);
}

} // namespace

request_scope& current_scope() noexcept {
  return current;
}

void send_json(httplib::Response& res, std::string body, int status) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void send_error(const httplib::Request& req, httplib::Response& res, const caf::error& err) {
  auto e = to_http_error(err);
  if (e.server_side)
    log::write(log::level::error, "request failed",
               {{"method", log::str(req.method)},
                {"path", log::str(req.path)},
                {"code", log::str(to_code(code_of(err)))},
                {"detail", log::str(message_of(err))}});
  send_json(res, std::move(e.body), e.status);
}

namespace {

// Adjusts what the library would otherwise get wrong for this API, before it reads
// the body. The request object is not const in the library, only in the signature of
// the pre-routing callback.
void normalize(httplib::Request& req, request_head& head) {
  // Bodies are JSON whatever the client declares (curl -d says form-urlencoded), and
  // the library would cap form bodies at 8 KiB and parse them as forms.
  if (head.content_type
      && head.content_type->rfind("application/x-www-form-urlencoded", 0) == 0)
    *head.content_type = "application/json";
  // A request without Content-Length or chunked encoding has an empty body (RFC 9112
  // 6.3); the library would instead wait for the connection to close.
  if ((req.method == "POST" || req.method == "PUT") && head.content_length_count == 0
      && head.transfer_encoding_count == 0) {
    req.headers.emplace("Content-Length", "0");
    head.content_length_count = 1;
    head.content_length = "0";
  }
}

// A body announced larger than MAX_BODY_BYTES is refused before any of it is read. (The
// library's own limit is lifted so that an import may stream a body of any size.)
bool announced_too_large(const request_head& head, std::size_t max) {
  if (head.content_length_count != 1)
    return false;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(head.content_length.data(),
                                   head.content_length.data() + head.content_length.size(), n);
  return ec == std::errc{} && n > max;
}

} // namespace

void http_server::impl::configure() {
  // Replaces the library's defaults, which also set SO_REUSEPORT and would let a second
  // server bind the same port unnoticed. Keeps the socket to raise its backlog.
  svr.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  // connection_server enforces HTTP_THREADS and the deadlines; the library's own
  // timeouts below only shape its Keep-Alive header.
  // Nagle's algorithm with delayed ACKs costs ~40 ms per small response.
  svr.set_tcp_nodelay(true);
  // MAX_BODY_BYTES is enforced in pre-routing and while reading (with_body): the
  // library's check would read and discard a whole oversized body first, and would
  // refuse the streamed body of an import.
  svr.set_payload_max_length(std::numeric_limits<std::size_t>::max());
  svr.set_keep_alive_max_count(10000);
  time_t sec, usec;
  split(cfg.read_timeout, sec, usec);
  svr.set_read_timeout(sec, usec);
  split(cfg.write_timeout, sec, usec);
  svr.set_write_timeout(sec, usec);
  svr.set_keep_alive_timeout(std::max<time_t>(
    1, std::chrono::duration_cast<std::chrono::seconds>(cfg.idle_timeout).count()));
  svr.set_exception_handler(
    [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep)
          std::rethrow_exception(ep);
      } catch (const std::exception& ex) {
        what = ex.what();
      } catch (...) {
      }
      log::write(log::level::error, "handler exception",
                 {{"path", log::str(req.path)}, {"detail", log::str(what)}});
      reply_error(res, errc::internal, {});
    });
  svr.set_pre_routing_handler([this](const httplib::Request& req,
                                     httplib::Response& res) {
    current.t.reset();
    current.admin = false;
    edge.begin(const_cast<httplib::Request&>(req));
    if (stopping.load(std::memory_order_relaxed)) {
      close_after_response(res);
      reply_error(res, errc::shutting_down, {});
      return httplib::Server::HandlerResponse::Handled;
    }
    auto& head = current_edge().head;
    if (const char* why = ambiguous_framing(head)) {
      close_after_response(res);
      std::string body = "{\"error\":\"ambiguous request framing: ";
      send_json(res, body + why + "\",\"code\":\"http_400\"}\n", 400);
      return httplib::Server::HandlerResponse::Handled;
    }
    normalize(const_cast<httplib::Request&>(req), head);
    if (req.path == "/health")
      return httplib::Server::HandlerResponse::Unhandled;
    if (!edge.admit_client(req, res))
      return httplib::Server::HandlerResponse::Handled;
    if (authorize(req, res) == httplib::Server::HandlerResponse::Handled)
      return httplib::Server::HandlerResponse::Handled;
    if (req.path != "/events/import" && announced_too_large(head, cfg.max_body_bytes)) {
      close_after_response(res);
      reply_error(res, errc::payload_too_large,
                  "request body larger than " + std::to_string(cfg.max_body_bytes) + " bytes");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler(httplib::Server::HandlerWithResponse{[this](
                          const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_length_ > 0)
      return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 404) {
      if (auto allow = allowed_methods(req.path, dir->multi_tenant())) {
        res.set_header("Allow", allow);
        reply_error(res, errc::method_not_allowed,
                    "method " + req.method + " not allowed; allowed: " + allow);
      } else {
        reply_error(res, errc::not_found, "no such path: " + req.path);
      }
    } else if (res.status == 413) {
      reply_error(res, errc::payload_too_large,
                  "request body larger than " + std::to_string(cfg.max_body_bytes)
                    + " bytes");
    } else {
      // Rejections by the HTTP parser itself (malformed request line or headers),
      // or a request that did not arrive within READ_TIMEOUT. The rest of such a
      // request cannot be framed: the connection is closed.
      if (current_request_timed_out())
        res.status = 408;
      else if (res.status == 400 && request_headers_too_large())
        res.status = 431;
      close_after_response(res);
      int status = res.status;
      send_json(res,
                "{\"error\":\"the request was rejected by the HTTP parser\","
                "\"code\":\"http_" + std::to_string(status) + "\"}\n",
                status);
    }
    return httplib::Server::HandlerResponse::Handled;
  }});
  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    // The library calls this after writing the response. A short one is still in the
    // connection's buffer and goes out when this returns, so a client that has it
    // finds the request counted in /metrics (a long body is already on its way).
    // From the request's first byte: reading a slow request counts too.
    auto elapsed = std::chrono::steady_clock::now() - current_edge().start;
    double seconds = std::chrono::duration<double>(elapsed).count();
    // Streamed bodies are counted as they are sent; both as on the wire (compressed).
    uint64_t bytes_out = res.body.size() + current_edge().body_bytes;
    uint64_t bytes_in = req.body.size();
    const auto& head = current_edge().head;
    if (bytes_in == 0 && head.content_length_count > 0)
      std::from_chars(head.content_length.data(),
                      head.content_length.data() + head.content_length.size(), bytes_in);
    metrics.record(classify(req.method, req.path), res.status, seconds, bytes_in, bytes_out);
    log::request_line line;
    line.method = req.method;
    line.path = req.path;
    line.status = res.status;
    line.duration_ms = seconds * 1e3;
    line.bytes = bytes_out;
    line.ip = current_edge().ip;
    line.tenant = current.t ? std::string_view{current.t->name()} : std::string_view{};
    line.user_agent = head.user_agent;
    log::request(line);
    current.t.reset();
  });
}

httplib::Server::HandlerResponse http_server::impl::authorize(const httplib::Request& req,
                                                             httplib::Response& res) {
  using handler_response = httplib::Server::HandlerResponse;
  auto access = access_of(req.path);
  if (access == route_access::open)
    return handler_response::Unhandled;
  if (cfg.metrics_public && is_metrics_path(req.path)
      && (req.path == "/metrics/prometheus" || wants_prometheus(req))) {
    current.admin = true;
    return handler_response::Unhandled;
  }
  // The key is a view into one of the request's headers.
  const auto& head = current_edge().head;
  auto key = extract_key(head.x_api_key, head.authorization);
  if (access == route_access::admin) {
    if (dir->is_admin(key)) {
      current.admin = true;
      return handler_response::Unhandled;
    }
    if (dir->has_tenant_key(key))
      reply_error(res, errc::forbidden, "this route needs an admin key");
    else
      reply_error(res, errc::unauthorized, "missing or invalid API key");
    return handler_response::Handled;
  }
  auto found = dir->find(key);
  if (!found) {
    send_error(req, res, found.error());
    return handler_response::Handled;
  }
  if (!*found) {
    // An admin key opens no tenant, only every tenant's metrics and the list.
    if (access == route_access::tenant_or_admin && dir->is_admin(key)) {
      current.admin = true;
      return handler_response::Unhandled;
    }
    reply_error(res, errc::unauthorized, "missing or invalid API key");
    return handler_response::Handled;
  }
  current.t = std::move(*found);
  if (!edge.admit_key(key, req, res))
    return handler_response::Handled;
  return handler_response::Unhandled;
}

http_server::http_server(const server_config& cfg, std::shared_ptr<tenant_registry> dir)
  : impl_(std::make_unique<impl>(cfg, std::move(dir), nullptr)) {
  if (cfg.rate_limit > 0 || cfg.rate_limit_per_key > 0)
    log::write(log::level::warn, "rate limiting is off: the server was built without an "
                                 "actor system for the limiter");
}

http_server::http_server(const server_config& cfg, std::shared_ptr<tenant_registry> dir,
                         caf::actor_system& sys)
  : impl_(std::make_unique<impl>(cfg, std::move(dir),
                                 cfg.rate_limit > 0 || cfg.rate_limit_per_key > 0
                                   ? rate_limiter::start(sys, rate_limiter_options_of(cfg))
                                   : nullptr)) {
}

http_server::~http_server() {
  stop();
}

int http_server::bind() {
  int port = impl_->cfg.port;
  if (port == 0)
    port = impl_->svr.bind_to_any_port(impl_->cfg.host);
  else if (!impl_->svr.bind_to_port(impl_->cfg.host, port))
    port = -1;
  // The library listens with a backlog of 5, so bursts of new connections are reset.
  if (port > 0 && impl_->listen_fd != INVALID_SOCKET)
    ::listen(impl_->listen_fd, SOMAXCONN);
  return port;
}

bool http_server::run() {
  bool ok = impl_->svr.listen_after_bind();
  // Every worker has finished: no request will consult the limiter again.
  if (impl_->limiter)
    impl_->limiter->stop();
  return ok;
}

void http_server::stop() {
  impl_->stopping.store(true);
  impl_->stopped.raise();
  impl_->svr.stop();
  impl_->svr.close_idle();
}

void http_server::cut_connections() {
  impl_->svr.close_all();
}

} // namespace ebuse
