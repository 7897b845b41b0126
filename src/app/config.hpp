// Server configuration from the environment and the command line, validated up front.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"

namespace ebuse {

/// The longest timeout any duration setting may hold. Every deadline is computed as
/// `now() + timeout` on a 64-bit nanosecond clock: bounded here, none can overflow.
constexpr std::chrono::hours max_timeout{24};

/// The longest TENANT_IDLE_TIMEOUT: a year, "never" for practical purposes.
constexpr std::chrono::hours max_tenant_idle{24 * 365};

/// A setting lowered to its maximum (see load_env_config).
struct clamped_setting {
  std::string name;  ///< the variable
  std::string given; ///< its value as set
};

/// Every setting of the server, with the documented defaults.
struct server_config {
  std::string host = "0.0.0.0";              ///< HOST
  int port = 8080;                           ///< PORT
  std::string api_key;                       ///< API_KEY (single-tenant)
  bool dev_key = false;                      ///< api_key was generated for development
  std::string db_path = "events.db";         ///< DB_PATH (single-tenant)
  std::string storage = "sqlite";            ///< STORAGE: sqlite or postgres
  std::string database_url;                  ///< DATABASE_URL (STORAGE=postgres)
  std::size_t pg_readers = 8;                ///< PG_READERS, reader connections per node
  std::string config_file;                   ///< -config FILE (multi-tenant)
  int rate_limit = 100;                      ///< RATE_LIMIT, requests/s per client
  int rate_burst = 200;                      ///< RATE_BURST
  bool enable_gzip = true;                   ///< ENABLE_GZIP
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(30);     ///< READ_TIMEOUT
  std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);    ///< WRITE_TIMEOUT
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(120);    ///< IDLE_TIMEOUT
  std::chrono::nanoseconds shutdown_timeout = std::chrono::seconds(30); ///< SHUTDOWN_TIMEOUT
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(30);  ///< REQUEST_TIMEOUT
  std::chrono::nanoseconds tenant_idle_timeout = std::chrono::minutes(5); ///< TENANT_IDLE_TIMEOUT
  int http_threads = 128;                    ///< HTTP_THREADS
  int max_conns_per_ip = 256;                ///< MAX_CONNS_PER_IP (0: no limit)
  std::size_t max_body_bytes = 10u << 20;    ///< MAX_BODY_BYTES
  std::size_t readers = 3;                   ///< READERS, reader actors per tenant
  std::size_t storage_workers = 4;           ///< STORAGE_WORKERS, threads of storage jobs
  std::size_t reader_connections = 256;      ///< READER_CONNECTIONS, open read-only connections
  int64_t max_open_tenants = 0;              ///< MAX_OPEN_TENANTS (0: from the descriptor limit)
  /// PAGE_CACHE_BYTES: SQLite page caches across all tenants (0: none).
  int64_t page_cache_bytes = int64_t{256} << 20;
  std::chrono::nanoseconds idempotency_ttl = std::chrono::hours(24); ///< IDEMPOTENCY_TTL
  int64_t writer_queue_events = 100000;      ///< WRITER_QUEUE_EVENTS, per tenant writer
  int64_t writer_queue_bytes = int64_t{256} << 20; ///< WRITER_QUEUE_BYTES, per tenant writer
  int wal_autocheckpoint = 1000;             ///< WAL_AUTOCHECKPOINT (pages, 0 = off)
  std::chrono::nanoseconds store_linger = std::chrono::microseconds(80); ///< STORE_LINGER
  std::string log_level = "info";            ///< LOG_LEVEL
  std::string admin_api_key;                 ///< ADMIN_API_KEY: metrics, dashboard, backups
  bool metrics_public = false;               ///< METRICS_PUBLIC: Prometheus without a key
  int rate_limit_per_key = 0;                ///< RATE_LIMIT_PER_KEY, requests/s per API key (0 = off)
  int rate_burst_per_key = 0;                ///< RATE_BURST_PER_KEY (0: twice RATE_LIMIT_PER_KEY)
  std::string trusted_proxies;               ///< TRUSTED_PROXIES, addresses/CIDR ranges
  std::size_t gzip_min_bytes = 1024;         ///< GZIP_MIN_BYTES, smallest body compressed
  std::chrono::nanoseconds ds_longpoll_timeout = std::chrono::seconds(20); ///< DS_LONGPOLL_TIMEOUT
  std::chrono::nanoseconds ds_sse_lifetime = std::chrono::seconds(60);     ///< DS_SSE_LIFETIME
  int64_t ds_max_streams = 10000;            ///< DS_MAX_STREAMS, per tenant
  int64_t ds_max_stream_bytes = int64_t{1} << 30; ///< DS_MAX_STREAM_BYTES, per stream
  /// DS_ANONYMOUS_TENANT: the tenant that serves /v1/stream requests without a key
  /// (empty: such requests get 401).
  std::string ds_anonymous_tenant;
  std::chrono::nanoseconds longpoll_max = std::chrono::seconds(60); ///< LONGPOLL_MAX
  std::chrono::nanoseconds heartbeat = std::chrono::seconds(15);    ///< HEARTBEAT
  std::vector<clamped_setting> clamped;      ///< settings lowered to their maximum
};

/// Reads one environment variable (nullptr when unset).
using env_lookup = std::function<const char*(const char*)>;

/// Fills `cfg` from the environment. On an invalid value returns false and sets `err`
/// to a message naming the variable and the accepted form. Durations are bounded:
/// READ_TIMEOUT, WRITE_TIMEOUT, IDLE_TIMEOUT and SHUTDOWN_TIMEOUT (the original's, which
/// took any duration) are lowered to max_timeout and listed in `cfg.clamped`;
/// REQUEST_TIMEOUT above max_timeout and TENANT_IDLE_TIMEOUT above max_tenant_idle are
/// rejected.
bool load_env_config(const env_lookup& env, server_config& cfg, std::string& err);

/// Checks a storage choice: `storage` is sqlite or postgres; postgres needs a valid
/// `url`, sqlite takes none. On a bad choice returns false with `err` naming the setting
/// (`storage_name`, `url_name`: the variables or tenants-file keys) and never the password.
bool check_storage(const std::string& storage, const std::string& url, std::string& err,
                   const char* storage_name = "STORAGE", const char* url_name = "DATABASE_URL");

/// Parses a Go bool (`1 t T true TRUE True 0 f F false FALSE False`).
bool parse_go_bool(std::string_view in, bool& out);

/// The text of `--help`.
std::string usage_text();

} // namespace ebuse
