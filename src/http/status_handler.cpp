// GET /position (from the head the tenant writer publishes) and GET /health.
#include "http/codec.hpp"
#include "http/handlers.hpp"
#include "http/logger.hpp"
#include "storage/json_text.hpp"

namespace ebuse {

void handle_position(const httplib::Request&, httplib::Response& res,
                     request_context& ctx) {
  send_json(res, render_position(ctx.t->stats().head.load(std::memory_order_acquire)));
}

void handle_health(httplib::Response& res, tenant_registry& registry) {
  for (auto& t : registry.running()) {
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

} // namespace ebuse
