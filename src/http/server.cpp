// The HTTP server: cpp-httplib configured, the pipeline's stages hooked in, the route
// table registered.
#include "http/server.hpp"

#include <charconv>
#include <chrono>
#include <exception>
#include <limits>
#include <string_view>

#include <sys/socket.h>

#include <httplib.h>

#include "http/connection.hpp"
#include "http/handlers.hpp"
#include "http/pipeline.hpp"
#include "http/route_table.hpp"
#include "obs/http_metrics.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

using hr = httplib::Server::HandlerResponse;

template <class Duration>
void split(Duration d, time_t& sec, time_t& usec) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  sec = static_cast<time_t>(us / 1000000);
  usec = static_cast<time_t>(us % 1000000);
}

std::string exception_text(std::exception_ptr ep) {
  try {
    if (ep)
      std::rethrow_exception(ep);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
  }
  return "unknown exception";
}

// Reads a body of at most `max` bytes. The library checks only Content-Length, so this
// also bounds chunked and compressed bodies. False: `res` holds the refusal.
bool read_body(const httplib::ContentReader& reader, std::size_t max, httplib::Response& res,
               std::string& body) {
  bool too_big = false;
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
    send_error(res, http_errc::payload_too_large,
               "request body larger than " + std::to_string(max) + " bytes");
    return false;
  }
  if (!ok) {
    close_after_response(res);
    auto e = to_http_error(errc::invalid_json, "the request body could not be read");
    send_json(res, std::move(e.body), e.status);
    return false;
  }
  return true;
}

} // namespace

struct http_server::impl {
  http_options opts;
  std::shared_ptr<tenant_registry> registry;
  std::shared_ptr<rate_limiter> limiter;
  connection_server svr; // deadlines, pipelining, header limits, Connection: close
  http_metrics metrics{route_labels()};
  request_pipeline pipeline;
  stop_signal stopped;
  server_context context;
  socket_t listen_fd = INVALID_SOCKET;

  impl(const http_options& o, std::shared_ptr<tenant_registry> r,
       std::shared_ptr<rate_limiter> l)
    : opts(o), registry(std::move(r)), limiter(std::move(l)), svr(o.connections, o.max_body_bytes),
      pipeline(o, registry, limiter, metrics),
      context{opts, *registry, metrics, limiter.get(), [this] { return svr.counts(); },
              stopped} {
    set_socket_and_limits();
    set_stages();
    register_routes();
  }

  void set_socket_and_limits() {
    std::string err;
    trusted_proxies proxies;
    if (trusted_proxies::parse(opts.trusted_proxies, proxies, err))
      svr.exempt_from_ip_limit(std::move(proxies));
    // Replaces the library's defaults, which also set SO_REUSEPORT and would let a second
    // server bind the same port unnoticed. Keeps the socket to raise its backlog.
    svr.set_socket_options([this](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listen_fd = sock;
    });
    // Nagle's algorithm with delayed ACKs costs ~40 ms per small response.
    svr.set_tcp_nodelay(true);
    // MAX_BODY_BYTES is enforced by the pipeline (a body announced larger) and while
    // reading (with_body): the library's own check would read and discard a whole
    // oversized body first, and would refuse the streamed body of an import.
    svr.set_payload_max_length(std::numeric_limits<std::size_t>::max());
    // connection_server enforces HTTP_THREADS and the deadlines; the library's own
    // settings below only shape its Keep-Alive header.
    svr.set_keep_alive_max_count(10000);
    time_t sec, usec;
    split(opts.connections.read_timeout, sec, usec);
    svr.set_read_timeout(sec, usec);
    split(opts.connections.write_timeout, sec, usec);
    svr.set_write_timeout(sec, usec);
    auto idle = std::chrono::duration_cast<std::chrono::seconds>(opts.connections.idle_timeout);
    svr.set_keep_alive_timeout(std::max<time_t>(1, idle.count()));
  }

  // The pipeline's stages as the library's callbacks. The request object is not const in
  // the library, only in the signature of the pre-routing callback.
  void set_stages() {
    svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res,
                                 std::exception_ptr ep) {
      log::write(log::level::error, "handler exception",
                 {{"path", log::str(req.path)}, {"detail", log::str(exception_text(ep))}});
      auto e = to_http_error(errc::internal, {});
      send_json(res, std::move(e.body), e.status);
    });
    // `Expect: 100-continue`: the head passes every check (shutdown, framing, client
    // limit, key, key limit, size, route) before the client is told to send its body; a
    // refused head is answered at once, without `100 Continue`.
    svr.set_expect_100_continue_handler([this](const httplib::Request& req,
                                               httplib::Response& res) {
      auto& st = current_request();
      bool admitted = pipeline.before_handler(const_cast<httplib::Request&>(req), res, st);
      if (admitted && st.match.status == 200) {
        st.admitted = true;
        if (!wait_for_body_in_loop())
          return 100;
        // Sent already; this answer is discarded and the request runs again with its body.
        res.status = 200;
        res.set_header("Content-Length", "0");
        return 200;
      }
      if (admitted)
        send_unmatched(req, res, st.match);
      // The library writes this answer without framing its body.
      res.set_header("Content-Length", std::to_string(res.body.size()));
      return res.status;
    });
    svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      auto& st = current_request();
      if (st.admitted)
        return hr::Unhandled;
      auto& mutable_req = const_cast<httplib::Request&>(req);
      return pipeline.before_handler(mutable_req, res, st) ? hr::Unhandled : hr::Handled;
    });
    // Every response, just before its head is written: one answered before its request's
    // body was read closes the connection, or the unread body would be parsed as the
    // next request (and a body holding the text of a request would get it answered).
    svr.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      auto& st = current_request();
      if (!st.routed)
        st.headers.scan(const_cast<httplib::Request&>(req));
      if (st.headers.has_body() && !st.body_read)
        close_after_response(res);
      // The library adds it to every response it does not close itself.
      if (res.get_header_value("Connection") == "close")
        res.headers.erase("Keep-Alive");
    });
    svr.set_error_handler(
      httplib::Server::HandlerWithResponse{[this](const httplib::Request& req,
                                                  httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0)
          return hr::Unhandled;
        pipeline.answer_unserved(req, res, current_request());
        return hr::Handled;
      }});
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      pipeline.log(req, res, current_request());
    });
  }

  request_context context_of(std::string body = {},
                             const httplib::ContentReader* reader = nullptr) {
    auto& st = current_request();
    return request_context{st.t, st.admin, context, st.match.entry, std::move(body), reader};
  }

  // The library routes a prefix route by its prefix alone; the table decides (a path
  // without the route's suffix is a 404), and so does its handler: routes that share a
  // prefix and a method (/subscriptions/{id}/position and /events) share one pattern,
  // which the library gives to the first registered.
  httplib::Server::Handler without_body() {
    return [this](const httplib::Request& req, httplib::Response& res) {
      // The library reads the body of these methods before a handler without a body
      // reader runs; the body of a GET, HEAD or OPTIONS is never read.
      current_request().body_read = req.method == "POST" || req.method == "PUT"
                                    || req.method == "PATCH" || req.method == "DELETE";
      if (current_request().match.status != 200)
        return send_unmatched(req, res, current_request().match);
      auto ctx = context_of();
      current_request().match.entry->handler(req, res, ctx);
    };
  }

  httplib::Server::HandlerWithContentReader with_body() {
    return [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
      std::string body;
      // One allocation of the announced size, not a doubling series that peaks at three
      // times the body while it moves.
      std::size_t announced = 0;
      auto cl = current_request().headers.content_length;
      if (std::from_chars(cl.data(), cl.data() + cl.size(), announced).ec == std::errc{}
          && announced <= opts.max_body_bytes)
        body.reserve(announced);
      if (!read_body(reader, opts.max_body_bytes, res, body))
        return;
      current_request().body_read = true;
      if (current_request().match.status != 200)
        return send_unmatched(req, res, current_request().match);
      auto ctx = context_of(std::move(body));
      current_request().match.entry->handler(req, res, ctx);
    };
  }

  // Hands the body reader itself to the handler, which reads the body as it arrives.
  httplib::Server::HandlerWithContentReader with_reader() {
    return [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
      if (current_request().match.status != 200)
        return send_unmatched(req, res, current_request().match);
      // Notes a body read to its end; a handler that stops early leaves the rest unread.
      httplib::ContentReader counted{
        [&reader](httplib::ContentReceiver receiver) {
          bool whole = reader(std::move(receiver));
          if (whole)
            current_request().body_read = true;
          return whole;
        },
        reader.multipart_reader_};
      auto ctx = context_of({}, &counted);
      current_request().match.entry->handler(req, res, ctx);
    };
  }

  void register_routes() {
    for (const auto& r : routes()) {
      // [\s\S]: ids may hold any byte; control characters must reach the validation.
      std::string pattern{r.path};
      if (!r.suffix.empty() || r.prefix())
        pattern += R"([\s\S]*)";
      if (r.methods & get)
        svr.Get(pattern, without_body());
      auto body = [&] { return r.streams_body() ? with_reader() : with_body(); };
      if (r.methods & post)
        svr.Post(pattern, body());
      if (r.methods & put)
        svr.Put(pattern, body());
      if (r.methods & del)
        svr.Delete(pattern, without_body());
      if (r.methods & options)
        svr.Options(pattern, without_body());
    }
  }
};

http_server::http_server(const http_options& opts, std::shared_ptr<tenant_registry> registry,
                         caf::actor_system& sys)
  : impl_(std::make_unique<impl>(opts, std::move(registry),
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
  bool ok = impl_->listen_fd != INVALID_SOCKET && impl_->svr.serve(impl_->listen_fd);
  // Every worker has finished: no request will consult the limiter again.
  if (impl_->limiter)
    impl_->limiter->stop();
  return ok;
}

void http_server::stop() {
  impl_->pipeline.stop();
  impl_->stopped.raise();
  // Long-polls and SSE responses wait on their tenant's signal: end them now.
  for (auto& t : impl_->registry->running())
    t->streams_signal().shutdown();
  impl_->svr.stop_accepting();
  impl_->svr.close_idle();
}

void http_server::cut_connections() {
  impl_->svr.close_all();
}

} // namespace ebuse
