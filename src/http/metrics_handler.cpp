// GET /metrics (JSON, or Prometheus text when the scraper asks), /metrics/prometheus and
// the live /metrics/stream.
#include "http/handlers.hpp"
#include "http/metrics_render.hpp"
#include "http/metrics_stream.hpp"

namespace ebuse {

bool wants_prometheus(const httplib::Request& req) {
  // Prometheus asks for OpenMetrics or text/plain; browsers and curl ask for */* or HTML.
  auto accept = req.get_header_value("Accept");
  return accept.find("text/plain") != std::string::npos
         || accept.find("application/openmetrics-text") != std::string::npos;
}

bool serves_prometheus(const httplib::Request& req, const route& r) {
  return r.handler == handle_prometheus || (r.handler == handle_metrics && wants_prometheus(req));
}

namespace {

// Longest wait of a live-metrics tick for the subscription actors' answers.
constexpr auto subscription_ask_timeout = std::chrono::milliseconds(250);

// Interval of the live metrics.
constexpr auto metrics_tick = std::chrono::seconds(1);

// What the caller may see: its own tenant, or (admin, public) every tenant.
metrics_view view_of(const request_context& ctx) {
  auto& registry = ctx.server.registry;
  metrics_view view;
  if (ctx.admin) {
    view.tenants = registry.running();
    view.configured = registry.names();
  } else {
    view.caller = ctx.t;
    view.tenants = {ctx.t};
  }
  view.registry = &registry.stats();
  view.http = &ctx.server.metrics;
  view.connections = ctx.server.connections();
  view.limiter = ctx.server.limiter;
  view.multi_tenant = registry.multi_tenant();
  return view;
}

} // namespace

void handle_prometheus(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  res.status = 200;
  res.set_content(render_prometheus(view_of(ctx)), "text/plain; version=0.0.4; charset=utf-8");
}

void handle_metrics(const httplib::Request& req, httplib::Response& res, request_context& ctx) {
  if (wants_prometheus(req))
    return handle_prometheus(req, res, ctx);
  send_json(res, render_metrics_json(view_of(ctx)));
}

void handle_metrics_stream(const httplib::Request&, httplib::Response& res,
                           request_context& ctx) {
  // Each tick shows what the caller may see then (every tenant running at that moment).
  auto ticker = std::make_shared<metrics_ticker>([ctx] { return view_of(ctx); },
                                                 subscription_ask_timeout);
  stream_metrics(res, std::move(ticker), ctx.server.stopped, metrics_tick);
}

} // namespace ebuse
