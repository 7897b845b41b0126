// The route table: each path's handler, wrapped with what it needs from the pipeline.
#include <chrono>

#include "http/codec.hpp"
#include "http/handlers.hpp"
#include "http/metrics_stream.hpp"
#include "http/server_impl.hpp"

namespace ebuse {

namespace {

// Longest wait of a live-metrics tick for the subscription actors' answers.
constexpr auto subscription_ask_timeout = std::chrono::milliseconds(250);

// Interval of the live metrics.
constexpr auto metrics_tick = std::chrono::seconds(1);

// Wraps a handler so that it receives its tenant; stays free of per-request state.
template <class F>
httplib::Server::Handler with_tenant(const server_config& cfg, F f) {
  return [&cfg, f](const httplib::Request& req, httplib::Response& res) {
    request_context ctx{current_scope().t, cfg, {}};
    f(req, res, ctx);
  };
}

// Reads the body itself, so that MAX_BODY_BYTES also bounds chunked and compressed
// bodies (the library checks only Content-Length), then calls the handler.
template <class F>
httplib::Server::HandlerWithContentReader with_body(const server_config& cfg, F f) {
  return [&cfg, f](const httplib::Request& req, httplib::Response& res,
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
      return send_error(req, res,
                        make_error(errc::payload_too_large,
                                   "request body larger than " + std::to_string(max)
                                     + " bytes"));
    }
    if (!ok) {
      close_after_response(res);
      return send_error(req, res,
                        make_error(errc::invalid_json, "the request body could not be read"));
    }
    request_context ctx{current_scope().t, cfg, std::move(body)};
    f(req, res, ctx);
  };
}

// Hands the body reader itself to the handler, which streams it (an import).
template <class F>
httplib::Server::HandlerWithContentReader with_reader(const server_config& cfg, F f) {
  return [&cfg, f](const httplib::Request& req, httplib::Response& res,
                   const httplib::ContentReader& reader) {
    request_context ctx{current_scope().t, cfg, {}};
    f(req, res, ctx, reader);
  };
}

} // namespace

metrics_view http_server::impl::view_for(bool admin,
                                         const std::shared_ptr<tenant>& caller) const {
  metrics_view view;
  if (admin) {
    view.tenants = dir->running();
    view.configured = dir->names();
  } else {
    view.caller = caller;
    view.tenants = {caller};
  }
  view.registry = &dir->stats();
  view.http = &metrics;
  view.connections = svr.counts();
  view.limiter = limiter.get();
  view.multi_tenant = dir->multi_tenant();
  return view;
}

void http_server::impl::routes() {
  svr.Post("/events", with_body(cfg, handle_append));
  svr.Get("/events", with_tenant(cfg, handle_load));
  svr.Post("/events/batch", with_body(cfg, handle_batch));
  svr.Get("/events/stream", with_tenant(cfg, handle_stream));
  svr.Get("/events/export", with_tenant(cfg, handle_export));
  svr.Post("/events/import", with_reader(cfg, handle_import));
  svr.Get("/position", with_tenant(cfg, handle_position));
  // [\s\S]: ids may hold any byte; control characters must reach the validation.
  svr.Get(R"(/subscriptions/[\s\S]*)", with_tenant(cfg, handle_subscription));
  svr.Post(R"(/subscriptions/[\s\S]*)", with_body(cfg, handle_subscription));
  svr.Put(R"(/subscriptions/[\s\S]*)", with_body(cfg, handle_subscription));
  auto metrics_route = [this](const httplib::Request& req, httplib::Response& res) {
    auto& scope = current_scope();
    handle_metrics(req, res, view_for(scope.admin, scope.t));
  };
  svr.Get("/metrics", metrics_route);
  svr.Get("/metrics/prometheus", metrics_route);
  svr.Get("/metrics/stream", [this](const httplib::Request&, httplib::Response& res) {
    auto ticker = std::make_shared<metrics_ticker>([this] { return view_for(true, nullptr); },
                                                   subscription_ask_timeout);
    handle_metrics_stream(res, std::move(ticker), stopped, metrics_tick);
  });
  svr.Get(R"(/admin/tenants/[^/]+/backup)",
          [this](const httplib::Request& req, httplib::Response& res) {
            handle_backup(req, res, *dir, stopped);
          });
  svr.Get("/dashboard", [](const httplib::Request&, httplib::Response& res) {
    handle_dashboard(res);
  });
  if (dir->multi_tenant())
    svr.Get("/tenants", with_tenant(cfg, [this](const httplib::Request&,
                                                httplib::Response& res, request_context&) {
              send_json(res, render_tenants(dir->names()));
            }));
  svr.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    handle_health(res, *dir);
  });
}

} // namespace ebuse
