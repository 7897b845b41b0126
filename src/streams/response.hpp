// Responses of the stream API as data: status, headers and body, free of any HTTP library.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "streams/read.hpp"
#include "streams/types.hpp"

namespace ebuse::streams {

/// A response to send.
struct response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// Appends a header.
  void add(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }

  /// The value of header `name` (exact case), empty when absent.
  std::string header(std::string_view name) const;
};

/// Headers every stream response carries, errors included: browser hardening
/// (`X-Content-Type-Options: nosniff`, `Cross-Origin-Resource-Policy: cross-origin`)
/// and CORS (any origin; the protocol's headers exposed to scripts).
const std::vector<std::pair<std::string, std::string>>& common_headers();

/// The answer to a CORS preflight (OPTIONS): 204 with the methods and request headers
/// the API accepts. It needs no key.
response preflight_response();

/// HTTP status of `o`.
int status_of(outcome o) noexcept;

/// Stable snake_case code of `o` (the `code` of error bodies).
const char* code_of(outcome o) noexcept;

/// An error response: status of `o`, body `{"error":"<message>","code":"<code>"}`
/// (`message` empty: a generic one for `o`), `Cache-Control: no-store`.
response error_response(outcome o, std::string_view message = {});

/// A 400 for a malformed request (`code` snake_case).
response bad_request(std::string_view code, std::string_view message);

/// The response to a PUT, POST or DELETE. `location` is the absolute URL of the
/// stream, sent with 201.
response write_response(const write_result& r, std::string_view location = {});

/// The response to a HEAD.
response head_response(const read_result& r);

/// The response to a GET that read data (or reached the tail) at `start` (the offset
/// parameter as sent, `-1` when absent): 200 with the data, or 304 when
/// `if_none_match` names its ETag. `cursor` non-empty for live reads.
response read_response(const read_result& r, std::string_view start,
                       std::string_view if_none_match, std::string_view cursor);

/// The response to a catch-up GET at `offset=now`: no data, the tail, not cacheable.
response now_response(const read_result& r);

/// A long-poll that ended without data (204), or at the tail of a closed stream.
response poll_timeout_response(const read_result& r, std::string_view cursor);

/// The head of an SSE response (`text/event-stream`, base64 marked for binary types).
response sse_head(const read_result& r);

} // namespace ebuse::streams
