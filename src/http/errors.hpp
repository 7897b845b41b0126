// The single mapping from domain errors to HTTP status codes and JSON error bodies.
#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "core/errc.hpp"

namespace ebuse {

/// Refusals of the HTTP layer itself, beside the domain's errc: never produced by
/// storage or actors.
enum class http_errc : uint8_t {
  unauthorized,       ///< missing or wrong API key
  forbidden,          ///< a valid key that may not use this route (a tenant's on an admin route)
  not_found,          ///< unknown path
  method_not_allowed, ///< known path, wrong method
  payload_too_large,  ///< body above MAX_BODY_BYTES
  rate_limited,       ///< too many requests
  shutting_down,      ///< the server is stopping
};

/// Stable snake_case name of `x` (the `code` field of error bodies).
const char* to_code(http_errc x) noexcept;

/// An error as the client sees it.
struct http_error {
  int status;          ///< HTTP status code
  std::string message; ///< the message shown to the client
  std::string body; ///< `{"error":"<message>","code":"<code>"}` and a newline
  bool server_side; ///< a 5xx: the detail belongs in the log, not in the body
};

/// HTTP status of `code`.
int http_status(errc code) noexcept;

/// HTTP status of `code`.
int http_status(http_errc code) noexcept;

/// Maps `err` to its response. Client errors carry their message; server-side errors
/// carry a generic message, never SQL, paths or other internal detail.
http_error to_http_error(const caf::error& err);

/// The response of a domain error raised by the HTTP layer (an empty message: the
/// generic one).
http_error to_http_error(errc code, std::string message);

/// The response of a refusal of the HTTP layer.
http_error to_http_error(http_errc code, std::string message);

} // namespace ebuse
