// The tenant registry: API keys to tenants, tenants spawned on demand and stopped when idle.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/tenant.hpp"
#include "core/key_digest.hpp"
#include "obs/actor_metrics.hpp"

namespace ebuse {

/// One configured tenant.
struct tenant_spec {
  std::string name;    ///< validated, [A-Za-z0-9_-]{1,100}
  std::string db_path; ///< its SQLite file
  key_digest key{};    ///< SHA-256 of its API key
  std::string database_url; ///< PostgreSQL URL; empty: the SQLite file db_path
};

/// How the registry runs tenants.
struct registry_options {
  std::vector<tenant_spec> tenants;
  /// Digests of keys that may read every tenant's metrics (and nothing else).
  std::vector<key_digest> admin_keys;
  tenant_options defaults; ///< readers, pragmas, group commit (name and path per tenant)
  /// A tenant without requests for this long is stopped (its actors and connections);
  /// the next request starts it again.
  std::chrono::nanoseconds idle_timeout = std::chrono::minutes(5);
  /// Start every tenant at once and fail if one cannot open (single-tenant mode).
  bool eager = false;
  /// Threads that open tenants, so that starts run concurrently and off the registry.
  std::size_t start_workers = 4;
  /// After a failed start, requests are refused (503 with Retry-After, the error of the
  /// failure) for this long, doubled after each further failure up to the maximum;
  /// the next request after it tries again.
  std::chrono::nanoseconds start_backoff = std::chrono::seconds(1);
  std::chrono::nanoseconds start_backoff_max = std::chrono::seconds(60);
  /// How long a request for a tenant whose previous instance is still closing its file
  /// waits for it before 503 tenant_stopping.
  std::chrono::nanoseconds close_wait = std::chrono::seconds(5);
  /// Tenants that may hold their database files open at once (0: no limit). Starting one
  /// more stops the least recently used idle tenant first (as an idle stop does); with
  /// none idle, the request waits for a place up to `room_wait`, then gets 503
  /// overloaded with Retry-After.
  int64_t max_open_tenants = 0;
  std::chrono::nanoseconds room_wait = std::chrono::seconds(5);
  /// Adds `tenant` to /metrics and serves /tenants.
  bool multi_tenant = true;
  /// How often each running tenant's storage is probed in the background (a reader
  /// reads the head), so that /health sees a broken file without traffic.
  std::chrono::nanoseconds health_interval = std::chrono::seconds(10);
  /// Told of lifecycle events ("tenant started", "tenant stopped", "tenant closed" once
  /// a stopped tenant's connections to its file are all closed, "writer died", "tenant
  /// failed to start") with the tenant's name and a detail; for the log.
  std::function<void(std::string_view event, std::string_view tenant,
                     std::string_view detail)>
    on_event;
};

/// Counters the registry publishes.
struct registry_stats {
  std::atomic<uint64_t> spawns{0};     ///< tenants started
  std::atomic<uint64_t> idle_stops{0}; ///< tenants stopped for being idle or removed
  std::atomic<uint64_t> restarts{0};   ///< tenants whose writer died and were dropped
  std::atomic<uint64_t> reloads{0};    ///< configurations applied
  std::atomic<int64_t> active{0};      ///< tenants running now
  std::atomic<int64_t> configured{0};  ///< tenants configured now
  /// Tenants holding their files (running, starting or still closing them).
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> max_open{0};          ///< the open-tenant budget (0: none)
  std::atomic<uint64_t> budget_stops{0};     ///< idle tenants stopped to make room
  std::atomic<uint64_t> budget_waits{0};     ///< requests that waited for a place
  std::atomic<uint64_t> budget_refusals{0};  ///< of those, refused after room_wait
  actor_metrics actor;                 ///< the registry actor itself
  /// What every tenant shares (for /metrics): the storage workers and, on SQLite, the
  /// read-only connections (null when unused).
  std::shared_ptr<worker_pool> storage;
  std::shared_ptr<reader_pool> reader_connections;
};

class registry_view;

/// Shared handle to the registry actor and the directory it publishes. HTTP threads call
/// find() on every request: it reads the published directory without a message, and
/// sends the actor one only to start a tenant that is not running.
class tenant_registry {
public:
  /// Spawns the registry actor and its start workers (tenants open their databases
  /// there, several at once, never two instances of one tenant at a time).
  /// With `eager`, starts every tenant first and fails if one cannot be opened.
  static caf::expected<std::shared_ptr<tenant_registry>>
  start(caf::actor_system& sys, registry_options opts);

  ~tenant_registry();

  /// The running tenant of `key`, starting it if needed. A null pointer means that no
  /// tenant has this key; an error that its database cannot be used.
  caf::expected<std::shared_ptr<tenant>> find(std::string_view key);

  /// The running tenant named `name`, started if it is configured and idle. A null
  /// pointer: no tenant has this name; errc::tenant_stopping: it was removed from the
  /// configuration and is still closing its files.
  caf::expected<std::shared_ptr<tenant>> find_by_name(std::string_view name);

  /// The actor system the tenants run in.
  caf::actor_system& system() const;

  /// Whether `key` is some tenant's key (without starting that tenant).
  bool has_tenant_key(std::string_view key) const;

  /// Whether `key` is an admin key (metrics of every tenant).
  bool is_admin(std::string_view key) const;

  /// Sorted names of the configured tenants.
  std::vector<std::string> names() const;

  /// The tenants running now.
  std::vector<std::shared_ptr<tenant>> running() const;

  /// Applies a new set of tenants: added ones become reachable, removed ones stop once
  /// their in-flight requests are done, renamed keys take effect at once. Returns once
  /// requests see the new set.
  void reload(std::vector<tenant_spec> tenants, std::vector<key_digest> admin_keys = {});

  /// Stops every tenant (writers commit what they hold), waits until the registry has
  /// handed them their exit, and stops the registry: for shutdown only; afterwards
  /// find() starts no tenant.
  void stop_all();

  /// Figures for /metrics.
  const registry_stats& stats() const noexcept;

  /// Running tenants whose storage failed and has not recovered since (a read or a
  /// commit with storage_unavailable, or a background probe): /health answers from
  /// this, without a message to any tenant.
  int64_t unhealthy() const noexcept;

  /// Whether /metrics shows the tenant and /tenants is served.
  bool multi_tenant() const noexcept;

private:
  tenant_registry() = default;

  std::shared_ptr<registry_view> view_;
};

} // namespace ebuse
