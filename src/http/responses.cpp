// Writing JSON bodies and errors into a response.
#include "http/handlers.hpp"
#include "obs/logger.hpp"

namespace ebuse {

void send_json(httplib::Response& res, std::string body, int status) {
  res.status = status;
  res.set_content(std::move(body), "application/json");
}

void send_error(const httplib::Request& req, httplib::Response& res, const caf::error& err) {
  auto e = to_http_error(err);
  // Overload refusals are counted in /metrics, not logged one by one.
  if (e.server_side && code_of(err) != errc::overloaded)
    log::write(log::level::error, "request failed",
               {{"method", log::str(req.method)},
                {"path", log::str(req.path)},
                {"code", log::str(to_code(code_of(err)))},
                {"detail", log::str(message_of(err))}});
  // A refusal that knows when to come back says so (queue full, start backed off).
  if (auto seconds = retry_after_of(err); seconds > 0 && e.status == 503)
    res.set_header("Retry-After", std::to_string(seconds));
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

} // namespace ebuse
