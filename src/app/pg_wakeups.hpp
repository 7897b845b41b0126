// Cross-node wake-ups: commits of other nodes on PostgreSQL raise this node's heads.
#pragma once

#include <memory>
#include <string>

#include "actors/registry.hpp"
#include "storage/pg_listener.hpp"

namespace ebuse {

/// LISTENs on the node's PostgreSQL for the "<tenant> <head>" every commit announces
/// (its own included, which change nothing) and hands each to the tenant if it runs
/// here (tenant::observe_head): readers waiting for new events wake on commits made by
/// other nodes. A tenant that is not running here is left alone: it reads its head
/// when it starts. Announcements sent while the listener (re)connects are lost: once
/// LISTEN is in place, the heads of the running tenants are read again.
class pg_wakeups {
public:
  /// Starts listening on `url` for the tenants of `registry`.
  pg_wakeups(const std::string& url, std::weak_ptr<tenant_registry> registry);
  /// Stops listening.
  ~pg_wakeups();

  /// Whether LISTEN is in place now.
  bool connected() const noexcept {
    return listener_->connected();
  }

private:
  std::unique_ptr<pg_listener> listener_;
};

} // namespace ebuse
