// What the stages of the request pipeline learned about the request being served.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "actors/tenant.hpp"
#include "http/request_headers.hpp"
#include "http/route_table.hpp"

namespace ebuse {

/// The state of one request. Each request runs start to finish on one worker thread, so
/// the current one lives in a thread-local (current_request()).
struct request_state {
  std::chrono::steady_clock::time_point start; ///< first byte of the request
  std::string client;                ///< client address after trusted-proxy resolution
  bool gzip_enabled = false;         ///< ENABLE_GZIP
  bool accepts_gzip = false;         ///< ENABLE_GZIP and the client accepts gzip
  std::size_t gzip_min_bytes = 1024; ///< GZIP_MIN_BYTES
  std::size_t body_bytes = 0;        ///< body bytes of a streamed response, as sent
  request_headers headers;           ///< the headers read (empty until identified)
  bool routed = false;               ///< `match` is set
  route_match match;                 ///< what the route table says
  std::string_view api_key;          ///< the key presented (a view into a header value)
  std::shared_ptr<tenant> t;         ///< the caller's tenant, once authenticated
  bool admin = false;                ///< an admin key, or public metrics: every tenant
  bool admitted = false;   ///< the pipeline admitted the head before `100 Continue`
  bool body_read = false;  ///< the whole body was read (or framed away): keep-alive is safe
};

/// The current thread's request.
request_state& current_request() noexcept;

/// Resets the current request when its first byte arrives: also requests the parser
/// rejects (never reaching the pipeline) are logged with their own peer and time.
void begin_request(const std::string& peer);

} // namespace ebuse
