// The request headers the server reads, found in one pass.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "core/ascii.hpp"

namespace ebuse {

/// The headers the request pipeline looks at, taken in one walk over the library's
/// header map. Each lookup in that map compares names case-insensitively through
/// tolower(), one call per character; a dozen lookups per request was the largest
/// single cost of a small POST. Views point into the request's own headers.
struct request_headers {
  int content_length_count = 0;
  std::string_view content_length;     ///< the first Content-Length value
  int transfer_encoding_count = 0;
  std::string_view transfer_encoding;  ///< the first Transfer-Encoding value
  std::string* content_type = nullptr; ///< rewritable: form bodies are taken as JSON
  std::string_view x_api_key;
  std::string_view authorization;
  std::string_view user_agent;
  std::string_view accept_encoding;
  bool forwarded = false;              ///< Forwarded or X-Forwarded-For present
  /// A stream route's `multipart/form-data` type as sent: the library's view of it is
  /// rewritten so that the body is read as the bytes it is (see normalize_framing).
  std::string sent_multipart_type;

  /// Fills this from `req` (every field reset first).
  void scan(httplib::Request& req);

  /// The Content-Type the client sent, if any.
  std::optional<std::string> sent_content_type() const;

  /// A non-empty body follows (its length, or chunked).
  bool has_body() const noexcept {
    return transfer_encoding_count > 0
           || (content_length_count > 0 && content_length != "0");
  }
};

/// The reason a request's framing is ambiguous (several or invalid Content-Length
/// values, or Content-Length together with Transfer-Encoding), or nullptr. Such a request
/// is answered 400 and its connection closed: a proxy in front may have framed it
/// differently (request smuggling, RFC 9112 6.3).
const char* ambiguous_framing(const request_headers& headers);

/// Puts back the header values as sent. The library (0.11) URL-decodes every header
/// value it reads, so `X-API-Key: a%41` would be read as `aA`, and two different
/// `Idempotency-Key`s as one. `raw`: the request's header lines as they arrived, each
/// ending in CRLF (the blank line may follow). Only values holding a '%' change; a header
/// whose lines and entries do not pair up one to one is left as the library read it.
void restore_raw_header_values(httplib::Request& req, std::string_view raw);

} // namespace ebuse
