// Admission under the rate limits: the per-client and per-key checks and their headers.
#pragma once

#include <memory>
#include <string_view>

#include <httplib.h>

#include "actors/rate_limiter.hpp"
#include "http/client_ip.hpp"

namespace ebuse {

/// Rate-limit key of a client address: IPv4 whole, IPv6 by its /64 (one host usually
/// holds a whole /64, so finer keys would let it rotate addresses past the limit).
rate_key rate_key_of_ip(const ip_address& a) noexcept;

/// Admits requests under RATE_LIMIT (per client) and RATE_LIMIT_PER_KEY, writing the
/// `RateLimit-*` headers of the tighter limit, and a 429 with `Retry-After` when one
/// refuses.
class admission {
public:
  /// `limiter` may be null (no limiting).
  explicit admission(std::shared_ptr<rate_limiter> limiter);

  /// Per-client limit of the client at address `client`. False: `res` holds the 429
  /// (and closes the connection when a body follows, which is never read).
  bool admit_client(std::string_view client, bool has_body, httplib::Response& res);

  /// Per-API-key limit, after authentication. False: `res` holds the 429.
  bool admit_key(std::string_view api_key, bool has_body, httplib::Response& res);

private:
  bool apply(const rate_decision& d, const char* what, bool has_body, httplib::Response& res);

  std::shared_ptr<rate_limiter> limiter_;
};

} // namespace ebuse
