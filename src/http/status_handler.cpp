// GET /position, /health and /tenants: answers from published state, or a reader's ping.
#include "core/json_text.hpp"
#include "http/codec.hpp"
#include "http/handlers.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

// Bounded on its own: a load balancer's probe must not wait REQUEST_TIMEOUT.
constexpr auto health_timeout = std::chrono::seconds(2);

} // namespace

void handle_position(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  send_json(res, render_position(ctx.t->stats().head.load(std::memory_order_acquire)));
}

void handle_health(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  for (auto& t : ctx.server.registry.running()) {
    auto pos = ask(t->reader(), health_cmd{}, health_timeout);
    if (!pos) {
      // The original's fields (in its encoder's sorted key order) plus our `code`.
      auto code = code_of(pos.error());
      std::string body = "{\"code\":\"";
      body.append(to_code(code));
      body.append("\",\"error\":");
      json::append_quoted(to_http_error(code, {}).message, body);
      body.append(",\"status\":\"unhealthy\"}\n");
      log::write(log::level::warn, "health check failed",
                 {{"tenant", log::str(t->name())},
                  {"detail", log::str(message_of(pos.error()))}});
      return send_json(res, std::move(body), 503);
    }
  }
  send_json(res, "{\"status\":\"healthy\"}\n");
}

void handle_tenants(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  send_json(res, render_tenants(ctx.server.registry.names()));
}

} // namespace ebuse
