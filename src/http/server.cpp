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

#include "http/auth.hpp"
#include "http/codec.hpp"
#include "http/connection.hpp"
#include "http/edge.hpp"
#include "http/handlers.hpp"
#include "http/routes.hpp"
#include "http/streams_http.hpp"
#include "http/http_metrics.hpp"
#include "http/logger.hpp"
#include "storage/json_text.hpp"

namespace ebuse {

namespace {

// What a request carries from the pre-routing stage to its handler and log line. Each
// request runs start to finish on one worker thread, so thread-local state is exact.
struct request_scope {
  std::shared_ptr<tenant> t;
  bool admin = false; ///< an admin key, or public metrics: every tenant's figures
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

struct http_server::impl {
  server_config cfg;
  std::shared_ptr<tenant_registry> dir;
  std::shared_ptr<rate_limiter> limiter;
  connection_server svr; // deadlines, pipelining, header limits, Connection: close
  http_edge edge;
  std::atomic<bool> stopping{false};
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
    send_json(res, std::move(e.body), e.status);
  }

  // Adjusts what the library would otherwise get wrong for this API, before it reads
  // the body. The request object is not const in the library, only in the signature of
  // the pre-routing callback.
  void normalize(httplib::Request& req, request_head& head, bool stream_api) {
    // Bodies are JSON whatever the client declares (curl -d says form-urlencoded), and
    // the library would cap form bodies at 8 KiB and parse them as forms. A stream's
    // content type is whatever its client says (its handlers read the body themselves).
    if (!stream_api && head.content_type
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
    svr.set_payload_max_length(cfg.max_body_bytes);
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
      const bool stream_api = is_streams_path(req.path);
      if (stream_api)
        for (const auto& [name, value] : streams::common_headers())
          res.set_header(name, value);
      normalize(const_cast<httplib::Request&>(req), head, stream_api);
      if (req.path == "/health")
        return httplib::Server::HandlerResponse::Unhandled;
      if (!edge.admit_client(req, res))
        return httplib::Server::HandlerResponse::Handled;
      if (stream_api && req.method == "OPTIONS") {
        // CORS preflights carry no credentials.
        send_stream_response(res, streams::preflight_response());
        return httplib::Server::HandlerResponse::Handled;
      }
      if (cfg.metrics_public && is_metrics_path(req.path)
          && (req.path == "/metrics/prometheus" || wants_prometheus(req))) {
        current.admin = true;
        return httplib::Server::HandlerResponse::Unhandled;
      }
      // The key is a view into one of the request's headers.
      auto key = extract_key(head.x_api_key, head.authorization);
      auto found = key.empty() && stream_api && !cfg.ds_anonymous_tenant.empty()
                     ? dir->find_by_name(cfg.ds_anonymous_tenant)
                     : dir->find(key);
      if (!found) {
        send_error(req, res, found.error());
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!*found) {
        // An admin key opens no tenant, only every tenant's metrics and the list.
        if ((is_metrics_path(req.path) || req.path == "/tenants") && dir->is_admin(key)) {
          current.admin = true;
          return httplib::Server::HandlerResponse::Unhandled;
        }
        reply_error(res, errc::unauthorized, "missing or invalid API key");
        return httplib::Server::HandlerResponse::Handled;
      }
      current.t = std::move(*found);
      if (!edge.admit_key(key, req, res))
        return httplib::Server::HandlerResponse::Handled;
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

  // Wraps a handler so that it receives its tenant; stays free of per-request state.
  template <class F>
  httplib::Server::Handler with_tenant(F f) {
    return [this, f](const httplib::Request& req, httplib::Response& res) {
      request_context ctx{current.t, cfg, {}};
      f(req, res, ctx);
    };
  }

  // Reads the body itself, so that MAX_BODY_BYTES also bounds chunked and compressed
  // bodies (the library checks only Content-Length), then calls the handler.
  template <class F>
  httplib::Server::HandlerWithContentReader with_body(F f) {
    return [this, f](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
      std::string body;
      bool too_big = false;
      const size_t max = cfg.max_body_bytes;
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
        return reply_error(res, errc::payload_too_large,
                           "request body larger than " + std::to_string(max) + " bytes");
      }
      if (!ok) {
        close_after_response(res);
        return reply_error(res, errc::invalid_json, "the request body could not be read");
      }
      request_context ctx{current.t, cfg, std::move(body)};
      f(req, res, ctx);
    };
  }

  void routes() {
    svr.Post("/events", with_body(handle_append));
    svr.Get("/events", with_tenant(handle_load));
    svr.Post("/events/batch", with_body(handle_batch));
    svr.Get("/events/stream", with_tenant(handle_stream));
    svr.Get("/position", with_tenant(handle_position));
    // [\s\S]: ids may hold any byte; control characters must reach the validation.
    svr.Get(R"(/subscriptions/[\s\S]*)", with_tenant(handle_subscription));
    svr.Post(R"(/subscriptions/[\s\S]*)", with_body(handle_subscription));
    svr.Put(R"(/subscriptions/[\s\S]*)", with_body(handle_subscription));
    svr.Put(R"(/v1/stream/[\s\S]*)", with_body(handle_stream_create));
    svr.Post(R"(/v1/stream/[\s\S]*)", with_body(handle_stream_append));
    svr.Get(R"(/v1/stream/[\s\S]*)", with_tenant(handle_stream_read));
    svr.Delete(R"(/v1/stream/[\s\S]*)", with_tenant(handle_stream_delete));
    bool multi = dir->multi_tenant();
    auto metrics_route = [this](const httplib::Request& req, httplib::Response& res) {
      metrics_view view;
      if (current.admin) {
        view.tenants = dir->running();
        view.configured = dir->names();
      } else {
        view.caller = current.t;
        view.tenants = {current.t};
      }
      view.registry = &dir->stats();
      view.http = &metrics;
      view.connections = svr.counts();
      view.limiter = limiter.get();
      view.multi_tenant = dir->multi_tenant();
      handle_metrics(req, res, view);
    };
    svr.Get("/metrics", metrics_route);
    svr.Get("/metrics/prometheus", metrics_route);
    if (multi)
      svr.Get("/tenants", with_tenant([this](const httplib::Request&, httplib::Response& res,
                                             request_context&) {
                send_json(res, render_tenants(dir->names()));
              }));
    svr.Get("/health", [this](const httplib::Request& req, httplib::Response& res) {
      health(req, res);
    });
  }

  void health(const httplib::Request&, httplib::Response& res) {
    for (auto& t : dir->running()) {
      auto pos = ask<int64_t>(t->reader(), health_cmd{}, std::chrono::seconds(2));
      if (!pos) {
        // The original's fields (in its encoder's sorted key order) plus our `code`.
        auto e = to_http_error(code_of(pos.error()), {});
        std::string body = "{\"code\":\"";
        body.append(to_code(code_of(pos.error())));
        body.append("\",\"error\":");
        json::append_quoted(e.message, body);
        body.append(",\"status\":\"unhealthy\"}\n");
        log::write(log::level::warn, "health check failed",
                   {{"tenant", log::str(t->name())},
                    {"detail", log::str(message_of(pos.error()))}});
        return send_json(res, std::move(body), 503);
      }
    }
    send_json(res, "{\"status\":\"healthy\"}\n");
  }
};

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
  // Long-polls and SSE responses wait on their tenant's signal: end them now.
  for (auto& t : impl_->dir->running())
    t->streams_signal().shutdown();
  impl_->svr.stop();
  impl_->svr.close_idle();
}

void http_server::cut_connections() {
  impl_->svr.close_all();
}

} // namespace ebuse
