// The single mapping from domain errors to HTTP status codes and JSON error bodies.
#pragma once

#include <string>
#include <string_view>

#include <caf/error.hpp>

#include "core/errc.hpp"

namespace ebuse {

/// An error as the client sees it.
struct http_error {
  int status;          ///< HTTP status code
  std::string message; ///< the message shown to the client
  std::string body; ///< `{"error":"<message>","code":"<code>"}` and a newline
  bool server_side; ///< a 5xx: the detail belongs in the log, not in the body
};

/// HTTP status of `code`.
int http_status(errc code) noexcept;

/// Maps `err` to its response. Client errors carry their message; server-side errors
/// carry a generic message, never SQL, paths or other internal detail.
http_error to_http_error(const caf::error& err);

/// Convenience for errors raised by the HTTP layer itself.
http_error to_http_error(errc code, std::string message);

} // namespace ebuse
