// GET /position, /health and /tenants: answers from published state.
#include "core/json_text.hpp"
#include "http/codec.hpp"
#include "http/handlers.hpp"
#include "obs/logger.hpp"

namespace ebuse {

void handle_position(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  send_json(res, render_position(ctx.t->stats().head.load(std::memory_order_acquire)));
}

void handle_health(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  // Published state only: a probe costs no message to any tenant, whatever their number.
  if (ctx.server.registry.unhealthy() > 0) {
    // The original's fields (in its encoder's sorted key order) plus our `code`.
    auto code = errc::storage_unavailable;
    std::string body = "{\"code\":\"";
    body.append(to_code(code));
    body.append("\",\"error\":");
    json::append_quoted(to_http_error(code, {}).message, body);
    body.append(",\"status\":\"unhealthy\"}\n");
    return send_json(res, std::move(body), 503);
  }
  send_json(res, "{\"status\":\"healthy\"}\n");
}

void handle_tenants(const httplib::Request&, httplib::Response& res, request_context& ctx) {
  send_json(res, render_tenants(ctx.server.registry.names()));
}

} // namespace ebuse
