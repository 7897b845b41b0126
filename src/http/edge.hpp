// The request edge: client address, rate limiting and compression choice, decided in
// the pre-routing stage before authentication.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <httplib.h>

#include "actors/rate_limiter.hpp"
#include "http/client_ip.hpp"
#include "http/connection.hpp"
#include "http/options.hpp"
#include "http/request_head.hpp"

namespace ebuse {

/// What the edge learned about the current request. Each request runs start to finish
/// on one worker thread, so this lives in a thread-local.
struct edge_request {
  std::chrono::steady_clock::time_point start; ///< first byte of the request
  std::string ip;                    ///< client address after trusted-proxy resolution
  bool gzip_enabled = false;         ///< ENABLE_GZIP
  bool accepts_gzip = false;         ///< ENABLE_GZIP and the client accepts gzip
  std::size_t gzip_min_bytes = 1024; ///< GZIP_MIN_BYTES
  std::size_t body_bytes = 0;        ///< body bytes of a streamed response, as sent
  request_head head;                 ///< the headers read (empty until pre-routing)
};

/// The current thread's request.
edge_request& current_edge() noexcept;

/// Resets the current request when its first byte arrives: also requests the parser
/// rejects (never reaching the pre-routing stage) are logged with their own peer and time.
void begin_edge_request(const std::string& peer);

/// Rate-limit key of a client address: IPv4 whole, IPv6 by its /64 (one host usually
/// holds a whole /64, so finer keys would let it rotate addresses past the limit).
rate_key rate_key_of_ip(const ip_address& a) noexcept;

/// The edge stage of the server.
class http_edge {
public:
  /// `limiter` may be null (no limiting). opts.trusted_proxies must be valid.
  http_edge(const http_options& opts, std::shared_ptr<rate_limiter> limiter);

  /// First step of every request: resolves the client address and records gzip
  /// acceptance, then removes `Accept-Encoding` so that the library never compresses
  /// on its own (it would compress error bodies and tiny ones, and pick brotli for `br`).
  void begin(httplib::Request& req);

  /// Per-client limit (every route but /health). False: `res` holds the 429.
  bool admit_client(const httplib::Request& req, httplib::Response& res);

  /// Per-API-key limit, after authentication. False: `res` holds the 429.
  bool admit_key(std::string_view api_key, const httplib::Request& req,
                 httplib::Response& res);

private:
  bool apply(const rate_decision& d, const char* what, const httplib::Request& req,
             httplib::Response& res);

  bool gzip_enabled_;
  std::size_t gzip_min_bytes_;
  trusted_proxies proxies_;
  std::shared_ptr<rate_limiter> limiter_;
};

} // namespace ebuse
