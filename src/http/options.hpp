// What the HTTP layer is configured with; src/app derives it from the environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "actors/rate_limiter.hpp"

namespace ebuse {

/// Deadlines and sizes of connections.
struct connection_limits {
  /// A whole request (line, headers, body) must arrive within this from its first byte;
  /// on a new connection, from its accept. (cpp-httplib only bounds
  /// each read, so a client trickling a byte a second would hold a worker forever.)
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(30);
  /// A write that makes no progress for this long fails and closes the connection.
  std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);
  /// A keep-alive connection idle for this long between requests is closed.
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(120);
  /// Worker threads; each runs one request (and writes its response) at a time. Waiting
  /// connections are held by the event loop, not by a worker.
  int threads = 128;
  /// Requests served on one connection before it is closed.
  std::size_t keep_alive_max = 10000;
  /// MAX_CONNS_PER_IP: open connections from one peer address; more are answered 429
  /// and closed at accept. 0: no limit. Peers in TRUSTED_PROXIES are exempt.
  int max_conns_per_ip = 256;
};

/// Settings of the Durable Streams API (/v1/stream).
struct stream_http_options {
  /// DS_LONGPOLL_TIMEOUT: how long a long-poll waits for data.
  std::chrono::nanoseconds longpoll_timeout = std::chrono::seconds(20);
  /// DS_SSE_LIFETIME: how long an SSE response lasts before the client reconnects.
  std::chrono::nanoseconds sse_lifetime = std::chrono::seconds(60);
  /// DS_ANONYMOUS_TENANT: the tenant that serves stream requests sent without a key
  /// (empty: they get 401).
  std::string anonymous_tenant;
};

/// Settings of live reads of the event log (long-poll and follow).
struct live_options {
  /// LONGPOLL_MAX: the longest `wait` a request may ask for.
  std::chrono::nanoseconds longpoll_max = std::chrono::seconds(60);
  /// HEARTBEAT: the silence after which a follower gets a keep-alive line.
  std::chrono::nanoseconds heartbeat = std::chrono::seconds(15);
};

/// Every setting of the HTTP server, with the documented defaults.
struct http_options {
  std::string host = "0.0.0.0";         ///< HOST
  int port = 8080;                      ///< PORT (0: an ephemeral port)
  connection_limits connections;        ///< READ/WRITE/IDLE_TIMEOUT, HTTP_THREADS
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(30); ///< REQUEST_TIMEOUT
  std::size_t max_body_bytes = 10u << 20; ///< MAX_BODY_BYTES
  bool enable_gzip = true;              ///< ENABLE_GZIP
  std::size_t gzip_min_bytes = 1024;    ///< GZIP_MIN_BYTES
  bool metrics_public = false;          ///< METRICS_PUBLIC: Prometheus without a key
  std::string trusted_proxies;          ///< TRUSTED_PROXIES, validated
  /// RATE_LIMIT/RATE_BURST and RATE_LIMIT_PER_KEY/RATE_BURST_PER_KEY; a rate of 0 is off.
  rate_limiter_options rate_limits;
  stream_http_options streams;          ///< DS_LONGPOLL_TIMEOUT, DS_SSE_LIFETIME, DS_ANONYMOUS_TENANT
  live_options live;                    ///< LONGPOLL_MAX, HEARTBEAT

  /// Whether any rate limit is on.
  bool rate_limited() const noexcept {
    return rate_limits.per_ip.per_second > 0 || rate_limits.per_key.per_second > 0;
  }
};

} // namespace ebuse
