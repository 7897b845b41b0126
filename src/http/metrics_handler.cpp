// GET /metrics (JSON, or Prometheus text when the scraper asks) and /metrics/prometheus.
#include "http/handlers.hpp"
#include "http/metrics_render.hpp"

namespace ebuse {

bool wants_prometheus(const httplib::Request& req) {
  // Prometheus asks for OpenMetrics or text/plain; browsers and curl ask for */* or HTML.
  auto accept = req.get_header_value("Accept");
  return accept.find("text/plain") != std::string::npos
         || accept.find("application/openmetrics-text") != std::string::npos;
}

void handle_metrics(const httplib::Request& req, httplib::Response& res,
                    const metrics_view& view) {
  if (req.path == "/metrics/prometheus" || wants_prometheus(req)) {
    res.status = 200;
    res.set_content(render_prometheus(view), "text/plain; version=0.0.4; charset=utf-8");
    return;
  }
  send_json(res, render_metrics_json(view));
}

} // namespace ebuse
