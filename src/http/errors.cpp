// errc -> HTTP status and JSON body; the only place that decides either.
#include "http/errors.hpp"

#include "storage/json_text.hpp"

namespace ebuse {

int http_status(errc code) noexcept {
  switch (code) {
    case errc::none: return 200;
    case errc::invalid_json:
    case errc::invalid_event:
    case errc::invalid_batch:
    case errc::invalid_parameter:
    case errc::invalid_subscription: return 400;
    case errc::unauthorized: return 401;
    case errc::forbidden: return 403;
    case errc::not_found: return 404;
    case errc::method_not_allowed: return 405;
    case errc::payload_too_large: return 413;
    case errc::tenant_not_empty:
    case errc::backup_in_progress: return 409;
    case errc::rate_limited: return 429;
    case errc::storage_full:
    case errc::backup_no_space: return 507;
    case errc::shutting_down:
    case errc::tenant_stopping:
    case errc::storage_unavailable:
    case errc::storage_busy:
    case errc::timeout: return 503;
    case errc::internal: return 500;
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
    case errc::storage_unavailable:
      return "storage is unavailable";
    case errc::shutting_down:
      return "server is shutting down";
    case errc::timeout:
      return "the store did not answer in time; a write may still have been applied";
    default:
      return "internal error";
  }
}

} // namespace

http_error to_http_error(errc code, std::string message) {
  int status = http_status(code);
  bool server_side = status >= 500;
  if (server_side || message.empty())
    message = server_side ? generic_message(code) : to_code(code);
  std::string body = "{\"error\":";
  json::append_quoted(message, body);
  body.append(",\"code\":\"");
  body.append(to_code(code));
  body.append("\"}\n");
  return {status, std::move(message), std::move(body), server_side};
}

http_error to_http_error(const caf::error& err) {
  return to_http_error(code_of(err), message_of(err));
}

} // namespace ebuse
