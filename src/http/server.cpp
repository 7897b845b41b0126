// Routing and the request pipeline: limits, authentication, dispatch, errors, logging.
#include "http/server.hpp"

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string_view>

#include <sys/socket.h>

#include <httplib.h>

#include "core/json_text.hpp"
#include "http/auth.hpp"
#include "http/codec.hpp"
#include "http/connection.hpp"
#include "http/edge.hpp"
#include "http/handlers.hpp"
#include "http/route_table.hpp"
#include "obs/http_metrics.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

// What a request carries from the pre-routing stage to its handler and log line. Each
// request runs start to finish on one worker thread, so thread-local state is exact.
struct request_scope {
  std::shared_ptr<tenant> t;
  bool admin = false; ///< an admin key, or public metrics: every tenant's figures
  bool routed = false; ///< `match` is set (the request reached the pre-routing stage)
  route_match match;
};
thread_local request_scope current;

template <class Duration>
void split(Duration d, time_t& sec, time_t& usec) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  sec = static_cast<time_t>(us / 1000000);
  usec = static_cast<time_t>(us % 1000000);
}

} // namespace

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

void send_error(httplib::Response& res, http_errc code, std::string message) {
  auto e = to_http_error(code, std::move(message));
  send_json(res, std::move(e.body), e.status);
}

void send_unmatched(const httplib::Request& req, httplib::Response& res,
                    const route_match& m) {
  auto message = unmatched_message(m, req.method, req.path);
  if (m.status == 405) {
    res.set_header("Allow", m.allow);
    return send_error(res, http_errc::method_not_allowed, std::move(message));
  }
  send_error(res, http_errc::not_found, std::move(message));
}

struct http_server::impl {
  http_options opts;
  std::shared_ptr<tenant_registry> dir;
  std::shared_ptr<rate_limiter> limiter;
  connection_server svr; // deadlines, pipelining, header limits, Connection: close
  http_edge edge;
  std::atomic<bool> stopping{false};
  http_metrics metrics{route_labels()};
  server_context context;
  socket_t listen_fd = INVALID_SOCKET;

  impl(const http_options& o, std::shared_ptr<tenant_registry> d,
       std::shared_ptr<rate_limiter> l)
    : opts(o), dir(std::move(d)), limiter(l), svr(o.connections), edge(o, std::move(l)),
      context{opts, *dir, metrics, limiter.get(), [this] { return svr.counts(); }} {
    configure();
    routes();
  }

  template <class Code>
  void reply_error(httplib::Response& res, Code code, std::string msg) {
    auto e = to_http_error(code, std::move(msg));
    send_json(res, std::move(e.body), e.status);
  }

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

  void configure() {
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
    svr.set_payload_max_length(opts.max_body_bytes);
    svr.set_keep_alive_max_count(10000);
    time_t sec, usec;
    split(opts.connections.read_timeout, sec, usec);
    svr.set_read_timeout(sec, usec);
    split(opts.connections.write_timeout, sec, usec);
    svr.set_write_timeout(sec, usec);
    svr.set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(opts.connections.idle_timeout).count()));
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
      current.match = match(req.method, req.path, dir->multi_tenant());
      current.routed = true;
      edge.begin(const_cast<httplib::Request&>(req));
      if (stopping.load(std::memory_order_relaxed)) {
        close_after_response(res);
        reply_error(res, http_errc::shutting_down, {});
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
      const auto& m = current.match;
      if (m.rate_limited() && !edge.admit_client(req, res))
        return httplib::Server::HandlerResponse::Handled;
      if (m.auth() == auth_kind::none)
        return httplib::Server::HandlerResponse::Unhandled;
      if (m.auth() == auth_kind::metrics && opts.metrics_public
          && serves_prometheus(req, *m.entry)) {
        current.admin = true;
        return httplib::Server::HandlerResponse::Unhandled;
      }
      // The key is a view into one of the request's headers.
      auto key = extract_key(head.x_api_key, head.authorization);
      auto found = dir->find(key);
      if (!found) {
        send_error(req, res, found.error());
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!*found) {
        // An admin key opens no tenant, only every tenant's metrics and the list.
        bool admin_route = m.auth() == auth_kind::admin_or_tenant || m.auth() == auth_kind::metrics;
        if (admin_route && dir->is_admin(key)) {
          current.admin = true;
          return httplib::Server::HandlerResponse::Unhandled;
        }
        reply_error(res, http_errc::unauthorized, "missing or invalid API key");
        return httplib::Server::HandlerResponse::Handled;
      }
      current.t = std::move(*found);
      if (m.rate_limited() && !edge.admit_key(key, req, res))
        return httplib::Server::HandlerResponse::Handled;
      return httplib::Server::HandlerResponse::Unhandled;
    });
    svr.set_error_handler(httplib::Server::HandlerWithResponse{[this](
                            const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty() || res.content_length_ > 0)
        return httplib::Server::HandlerResponse::Unhandled;
      if (res.status == 404) {
        send_unmatched(req, res, current.routed ? current.match
                                                : match(req.method, req.path, dir->multi_tenant()));
      } else if (res.status == 413) {
        reply_error(res, http_errc::payload_too_large,
                    "request body larger than " + std::to_string(opts.max_body_bytes)
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
      auto label = current.routed ? current.match.label_index()
                                  : match(req.method, req.path, dir->multi_tenant()).label_index();
      current.routed = false;
      metrics.record(label, res.status, seconds, bytes_in, bytes_out);
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

  request_context context_of(std::string body = {}) {
    return request_context{current.t, current.admin, context, current.match.entry,
                           std::move(body)};
  }

  // Calls the route's handler with its context. The library routes a prefix route by its
  // prefix alone; the table decides (a path without the route's suffix is a 404).
  httplib::Server::Handler without_body(route_handler f) {
    return [this, f](const httplib::Request& req, httplib::Response& res) {
      if (current.match.status != 200)
        return send_unmatched(req, res, current.match);
      auto ctx = context_of();
      f(req, res, ctx);
    };
  }

  // Reads the body itself, so that MAX_BODY_BYTES also bounds chunked and compressed
  // bodies (the library checks only Content-Length), then calls the handler.
  httplib::Server::HandlerWithContentReader with_body(route_handler f) {
    return [this, f](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
      std::string body;
      bool too_big = false;
      const size_t max = opts.max_body_bytes;
      bool ok = reader([&](const char* data, size_t len) {
        if (len > max - body.size()) {
          too_big = true;
          return false;
        }
        body.append(data, len);
        return true;
      });
      if (too_big || res.status == 413) {
        close_after_response(res);
        return reply_error(res, http_errc::payload_too_large,
                           "request body larger than " + std::to_string(max) + " bytes");
      }
      if (!ok) {
        close_after_response(res);
        return reply_error(res, errc::invalid_json, "the request body could not be read");
      }
      if (current.match.status != 200)
        return send_unmatched(req, res, current.match);
      auto ctx = context_of(std::move(body));
      f(req, res, ctx);
    };
  }

  // Registers every route of the table with the library's router.
  void routes() {
    for (const auto& r : ebuse::routes()) {
      // [\s\S]: ids may hold any byte; control characters must reach the validation.
      std::string pattern{r.path};
      if (!r.suffix.empty())
        pattern += R"([\s\S]*)";
      if (r.methods & get)
        svr.Get(pattern, without_body(r.handler));
      if (r.methods & post)
        svr.Post(pattern, with_body(r.handler));
      if (r.methods & put)
        svr.Put(pattern, with_body(r.handler));
    }
  }
};
http_server::http_server(const http_options& opts, std::shared_ptr<tenant_registry> dir)
  : impl_(std::make_unique<impl>(opts, std::move(dir), nullptr)) {
  if (opts.rate_limited())
    log::write(log::level::warn, "rate limiting is off: the server was built without an "
                                 "actor system for the limiter");
}

http_server::http_server(const http_options& opts, std::shared_ptr<tenant_registry> dir,
                         caf::actor_system& sys)
  : impl_(std::make_unique<impl>(opts, std::move(dir),
                                 opts.rate_limited()
                                   ? rate_limiter::start(sys, opts.rate_limits)
                                   : nullptr)) {
}

http_server::~http_server() {
  stop();
}

int http_server::bind() {
  int port = impl_->opts.port;
  if (port == 0)
    port = impl_->svr.bind_to_any_port(impl_->opts.host);
  else if (!impl_->svr.bind_to_port(impl_->opts.host, port))
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
  impl_->svr.stop();
  impl_->svr.close_idle();
}

void http_server::cut_connections() {
  impl_->svr.close_all();
}

} // namespace ebuse
