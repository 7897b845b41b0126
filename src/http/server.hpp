// The HTTP front: routes, authentication, limits and lifecycle over cpp-httplib.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/registry.hpp"
#include "http/options.hpp"

namespace ebuse {

/// Serves the API for the tenants of a registry.
class http_server {
public:
  /// With the rate limiter (RATE_LIMIT, RATE_LIMIT_PER_KEY), when on, running as an
  /// actor of `sys`.
  http_server(const http_options& opts, std::shared_ptr<tenant_registry> registry,
              caf::actor_system& sys);
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds HOST:PORT (PORT 0: an ephemeral port). Returns the bound port, or -1.
  int bind();

  /// Serves until stop(); returns false if serving failed.
  bool run();

  /// Stops accepting; requests still arriving on open connections get 503 and every
  /// in-flight request completes. Safe from any thread except a signal handler.
  void stop();

  /// Cuts every open connection (the end of the shutdown grace period).
  void cut_connections();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace ebuse
