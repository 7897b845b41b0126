// errc and http_errc -> HTTP status and JSON body; the only place that decides either.
#include "http/errors.hpp"

#include "core/json_text.hpp"

namespace ebuse {

int http_status(errc code) noexcept {
  switch (code) {
    case errc::none: return 200;
    case errc::invalid_json:
    case errc::invalid_event:
    case errc::invalid_batch:
    case errc::invalid_parameter:
    case errc::invalid_subscription: return 400;
    case errc::tenant_not_empty:
    case errc::backup_in_progress: return 409;
    case errc::storage_full:
    case errc::backup_no_space: return 507;
    case errc::tenant_stopping:
    case errc::storage_unavailable:
    case errc::storage_busy:
    case errc::timeout:
    case errc::overloaded:
    case errc::cancelled: return 503;
    case errc::not_supported: return 501;
    case errc::internal: return 500;
  }
  return 500;
}

const char* to_code(http_errc x) noexcept {
  switch (x) {
    case http_errc::unauthorized: return "unauthorized";
    case http_errc::forbidden: return "forbidden";
    case http_errc::not_found: return "not_found";
    case http_errc::method_not_allowed: return "method_not_allowed";
    case http_errc::payload_too_large: return "payload_too_large";
    case http_errc::rate_limited: return "rate_limited";
    case http_errc::shutting_down: return "shutting_down";
  }
  return "internal";
}

int http_status(http_errc code) noexcept {
  switch (code) {
    case http_errc::unauthorized: return 401;
    case http_errc::forbidden: return 403;
    case http_errc::not_found: return 404;
    case http_errc::method_not_allowed: return 405;
    case http_errc::payload_too_large: return 413;
    case http_errc::rate_limited: return 429;
    case http_errc::shutting_down: return 503;
  }
  return 500;
}

namespace {

const char* generic_message(errc code) {
  switch (code) {
    case errc::storage_full:
      return "storage is full; the write was not applied";
    case errc::storage_busy:
      return "storage is busy; retry later";
    case errc::backup_no_space:
      return "not enough free disk space for the backup's temporary copy";
    case errc::tenant_stopping:
      return "the tenant is stopping; retry later";
    case errc::cancelled:
      return "the operation was cancelled";
    case errc::storage_unavailable:
      return "storage is unavailable";
    case errc::timeout:
      return "the store did not answer in time; a write may still have been applied";
    case errc::overloaded:
      return "overloaded (a full write queue, or no place to open the tenant); nothing was "
             "written, retry later";
    default:
      return "internal error";
  }
}

// `{"error":"<message>","code":"<code>"}` and a newline.
std::string error_body(const std::string& message, const char* code) {
  std::string body = "{\"error\":";
  json::append_quoted(message, body);
  body.append(",\"code\":\"");
  body.append(code);
  body.append("\"}\n");
  return body;
}

} // namespace

http_error to_http_error(errc code, std::string message) {
  int status = http_status(code);
  // 501: a documented limit of the tenant's storage, not a fault; its message stays.
  bool server_side = status >= 500 && code != errc::not_supported;
  if (server_side || message.empty())
    message = server_side ? generic_message(code) : to_code(code);
  auto body = error_body(message, to_code(code));
  return {status, std::move(message), std::move(body), server_side};
}

http_error to_http_error(http_errc code, std::string message) {
  // The shutdown refusal says the same to everyone; the others explain themselves.
  if (code == http_errc::shutting_down)
    message = "server is shutting down";
  else if (message.empty())
    message = to_code(code);
  auto body = error_body(message, to_code(code));
  return {http_status(code), std::move(message), std::move(body), false};
}

http_error to_http_error(const caf::error& err) {
  return to_http_error(code_of(err), message_of(err));
}

} // namespace ebuse
