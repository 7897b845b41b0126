// Environment parsing with Go's syntax for durations and booleans; errors name the variable.
#include "app/config.hpp"

#include "app/tenants_file.hpp"
#include "app/config_log.hpp"
#include "core/decimal.hpp"
#include "core/errc.hpp"
#include "http/client_ip.hpp"
#include "storage/pg_url.hpp"

namespace ebuse {

bool parse_go_bool(std::string_view in, bool& out) {
  for (auto t : {"1", "t", "T", "true", "TRUE", "True"})
    if (in == t)
      return out = true, true;
  for (auto f : {"0", "f", "F", "false", "FALSE", "False"})
    if (in == f)
      return out = false, true;
  return false;
}

namespace {

struct env_reader {
  const env_lookup& env;
  std::string& err;
  std::vector<clamped_setting>* clamped;

  const char* get(const char* name) {
    const char* v = env(name);
    return v && *v ? v : nullptr;
  }

  bool fail(const char* name, const char* value, const char* accepted) {
    err = std::string{"invalid "} + name + "=\"" + value + "\": expected " + accepted;
    return false;
  }

  bool integer(const char* name, int64_t lo, int64_t hi, int64_t& out) {
    const char* v = get(name);
    if (!v)
      return true;
    int64_t x;
    if (!parse_int64(v, x) || x < lo || x > hi) {
      std::string accepted = "an integer from " + std::to_string(lo) + " to "
                             + std::to_string(hi);
      return fail(name, v, accepted.c_str());
    }
    out = x;
    return true;
  }

  template <class T>
  bool number(const char* name, int64_t lo, int64_t hi, T& out) {
    int64_t x = static_cast<int64_t>(out);
    if (!integer(name, lo, hi, x))
      return false;
    out = static_cast<T>(x);
    return true;
  }

  // What happens to a duration above its maximum.
  enum class above { clamp, reject };

  bool duration(const char* name, bool allow_zero, std::chrono::nanoseconds& out,
                std::chrono::nanoseconds max = max_timeout, above policy = above::reject) {
    const char* v = get(name);
    if (!v)
      return true;
    std::chrono::nanoseconds x;
    std::string accepted = allow_zero ? "a Go duration" : "a positive Go duration";
    accepted += " up to " + format_duration(max) + " such as 500ms, 30s or 1m30s";
    if (!parse_go_duration(v, x) || (!allow_zero && x.count() == 0)
        || (x > max && policy == above::reject))
      return fail(name, v, accepted.c_str());
    if (x > max) {
      clamped->push_back({name, v});
      x = max;
    }
    out = x;
    return true;
  }

  // One of the original's timeouts: any duration it took still starts the server.
  bool inherited_timeout(const char* name, bool allow_zero, std::chrono::nanoseconds& out) {
    return duration(name, allow_zero, out, max_timeout, above::clamp);
  }

  // A duration from 0 to `max`.
  bool short_duration(const char* name, std::chrono::nanoseconds max,
                      const char* accepted, std::chrono::nanoseconds& out) {
    const char* v = get(name);
    if (!v)
      return true;
    std::chrono::nanoseconds x;
    if (!parse_go_duration(v, x) || x > max)
      return fail(name, v, accepted);
    out = x;
    return true;
  }

  bool boolean(const char* name, bool& out) {
    const char* v = get(name);
    if (!v)
      return true;
    if (!parse_go_bool(v, out))
      return fail(name, v, "true or false (also 1/0, t/f)");
    return true;
  }

  bool text(const char* name, std::string& out) {
    if (const char* v = get(name))
      out = v;
    return true;
  }
};

} // namespace

bool check_storage(const std::string& storage, const std::string& url, std::string& err,
                   const char* storage_name, const char* url_name) {
  auto name = [](const char* n) { return std::string{n}; };
  if (storage != "sqlite" && storage != "postgres") {
    err = "invalid " + name(storage_name) + "=\"" + storage + "\": expected sqlite or postgres";
    return false;
  }
  if (storage == "sqlite") {
    if (url.empty())
      return true;
    err = name(url_name) + " is set but " + storage_name + " is sqlite: set " + storage_name
          + "=postgres to use PostgreSQL, or unset " + url_name;
    return false;
  }
  if (url.empty()) {
    err = name(storage_name) + "=postgres needs " + url_name
          + ": expected a URL such as postgresql://user:password@db.example:5432/ebuse";
    return false;
  }
  auto valid = pg::validate_database_url(url);
  if (!valid) {
    err = "invalid " + name(url_name) + "=\"" + pg::redact_url(url)
          + "\": " + message_of(valid.error());
    return false;
  }
  return true;
}

bool load_env_config(const env_lookup& env, server_config& cfg, std::string& err) {
  cfg.clamped.clear();
  env_reader r{env, err, &cfg.clamped};
  bool ok = r.text("HOST", cfg.host) && r.number("PORT", 0, 65535, cfg.port)
            && r.text("API_KEY", cfg.api_key) && r.text("DB_PATH", cfg.db_path)
            && r.number("RATE_LIMIT", 0, 1000000000, cfg.rate_limit)
            && r.number("RATE_BURST", 1, 1000000000, cfg.rate_burst)
            && r.boolean("ENABLE_GZIP", cfg.enable_gzip)
            && r.inherited_timeout("READ_TIMEOUT", false, cfg.read_timeout)
            && r.inherited_timeout("WRITE_TIMEOUT", false, cfg.write_timeout)
            && r.inherited_timeout("IDLE_TIMEOUT", false, cfg.idle_timeout)
            && r.inherited_timeout("SHUTDOWN_TIMEOUT", true, cfg.shutdown_timeout)
            && r.duration("REQUEST_TIMEOUT", false, cfg.request_timeout)
            && r.duration("TENANT_IDLE_TIMEOUT", false, cfg.tenant_idle_timeout,
                          max_tenant_idle)
            && r.number("HTTP_THREADS", 2, 4096, cfg.http_threads)
            && r.number("MAX_CONNS_PER_IP", 0, 1000000, cfg.max_conns_per_ip)
            && r.number("MAX_BODY_BYTES", 1024, int64_t{1} << 30, cfg.max_body_bytes)
            && r.number("READERS", 1, 64, cfg.readers)
            && r.number("STORAGE_WORKERS", 1, 256, cfg.storage_workers)
            && r.number("READER_CONNECTIONS", 1, 1000000, cfg.reader_connections)
            && r.number("MAX_OPEN_TENANTS", 0, 1000000, cfg.max_open_tenants)
            && r.number("PAGE_CACHE_BYTES", 0, int64_t{1} << 40, cfg.page_cache_bytes)
            && r.duration("IDEMPOTENCY_TTL", false, cfg.idempotency_ttl, max_tenant_idle)
            && r.number("WRITER_QUEUE_EVENTS", 1, 100000000, cfg.writer_queue_events)
            && r.number("WRITER_QUEUE_BYTES", 1024, int64_t{1} << 40, cfg.writer_queue_bytes)
            && r.number("WAL_AUTOCHECKPOINT", 0, 1000000000, cfg.wal_autocheckpoint)
            && r.short_duration("STORE_LINGER", std::chrono::milliseconds(10),
                                "a Go duration from 0 to 10ms such as 80us",
                                cfg.store_linger)
            && r.text("LOG_LEVEL", cfg.log_level)
            && r.text("ADMIN_API_KEY", cfg.admin_api_key)
            && r.boolean("METRICS_PUBLIC", cfg.metrics_public)
            && r.number("RATE_LIMIT_PER_KEY", 0, 1000000000, cfg.rate_limit_per_key)
            && r.number("RATE_BURST_PER_KEY", 0, 1000000000, cfg.rate_burst_per_key)
            && r.text("TRUSTED_PROXIES", cfg.trusted_proxies)
            && r.number("GZIP_MIN_BYTES", 0, int64_t{1} << 30, cfg.gzip_min_bytes)
            && r.short_duration("DS_LONGPOLL_TIMEOUT", std::chrono::minutes(10),
                                "a positive Go duration up to 10m such as 20s",
                                cfg.ds_longpoll_timeout)
            && r.short_duration("DS_SSE_LIFETIME", std::chrono::hours(1),
                                "a positive Go duration up to 1h such as 60s",
                                cfg.ds_sse_lifetime)
            && r.number("DS_MAX_STREAMS", 1, 1000000000, cfg.ds_max_streams)
            && r.number("DS_MAX_STREAM_BYTES", 1, int64_t{1} << 50, cfg.ds_max_stream_bytes)
            && r.text("DS_ANONYMOUS_TENANT", cfg.ds_anonymous_tenant)
            && r.short_duration("LONGPOLL_MAX", std::chrono::hours(1),
                                "a Go duration up to 1h such as 60s", cfg.longpoll_max)
            && r.short_duration("HEARTBEAT", std::chrono::minutes(10),
                                "a positive Go duration up to 10m such as 15s",
                                cfg.heartbeat)
            && r.text("STORAGE", cfg.storage) && r.text("DATABASE_URL", cfg.database_url)
            && r.number("PG_READERS", 1, 256, cfg.pg_readers);
  if (!ok)
    return false;
  if (!check_storage(cfg.storage, cfg.database_url, err))
    return false;
  if (cfg.ds_longpoll_timeout.count() == 0)
    return r.fail("DS_LONGPOLL_TIMEOUT", "0", "a positive Go duration up to 10m such as 20s");
  if (cfg.ds_sse_lifetime.count() == 0)
    return r.fail("DS_SSE_LIFETIME", "0", "a positive Go duration up to 1h such as 60s");
  if (cfg.heartbeat.count() == 0)
    return r.fail("HEARTBEAT", "0", "a positive Go duration up to 10m such as 15s");
  if (!cfg.ds_anonymous_tenant.empty() && !valid_tenant_name(cfg.ds_anonymous_tenant))
    return r.fail("DS_ANONYMOUS_TENANT", cfg.ds_anonymous_tenant.c_str(),
                  "a tenant name ([A-Za-z0-9_-], 1 to 100 characters)");
  if (cfg.log_level != "debug" && cfg.log_level != "info" && cfg.log_level != "warn"
      && cfg.log_level != "error")
    return r.fail("LOG_LEVEL", cfg.log_level.c_str(), "debug, info, warn or error");
  trusted_proxies proxies;
  std::string why;
  if (!trusted_proxies::parse(cfg.trusted_proxies, proxies, why))
    return r.fail("TRUSTED_PROXIES", cfg.trusted_proxies.c_str(),
                  ("a comma-separated list of IP addresses or CIDR ranges such as "
                   "10.0.0.0/8, 192.168.1.7, fd00::/8 (" + why + ")").c_str());
  return true;
}

std::string usage_text() {
  return R"(Usage: ebuse [-config FILE] [--help] [--version]
       ebuse migrate --from FILE.db --to URL --tenant NAME   (see ebuse migrate --help)

Multi-tenant event store server: an append-only log per tenant in SQLite, served over
HTTP + JSON with API keys.

Options:
  -config, --config FILE  run multi-tenant with the tenants of FILE (YAML);
                          SIGHUP re-reads it
  -h, --help              print this help and exit
  --version               print the version and exit

Environment (default in brackets):
  HOST                bind address [0.0.0.0]
  PORT                TCP port [8080]
  API_KEY             single-tenant API key [none: a development key is generated
                      and printed at start]
  DB_PATH             single-tenant database file [events.db]
  STORAGE             sqlite (a file per tenant) or postgres (DATABASE_URL) [sqlite]
  DATABASE_URL        PostgreSQL URL (postgresql://user:password@host:5432/db) shared
                      by every tenant when STORAGE=postgres [none]
  PG_READERS          PostgreSQL reader connections of this node, shared by its
                      tenants [8]
  RATE_LIMIT          requests/s per client IP, 0 disables [100]
  RATE_BURST          token-bucket burst [200]
  RATE_LIMIT_PER_KEY  requests/s per API key, 0 disables [0]
  RATE_BURST_PER_KEY  burst per API key, 0 means twice RATE_LIMIT_PER_KEY [0]
  TRUSTED_PROXIES     proxies whose X-Forwarded-For/Forwarded name the client:
                      comma-separated addresses or CIDR ranges [none]
  ENABLE_GZIP         gzip event responses when the client accepts it [true]
  GZIP_MIN_BYTES      smallest event response worth compressing [1024]
  READ_TIMEOUT        time for a whole request to arrive [30s]
  WRITE_TIMEOUT       longest stall of a response write [60s]
  IDLE_TIMEOUT        keep-alive idle time between requests [120s]
  SHUTDOWN_TIMEOUT    grace period for in-flight work on SIGINT/SIGTERM [30s]
  REQUEST_TIMEOUT     longest wait for the store to answer one request [30s]
  TENANT_IDLE_TIMEOUT stop a tenant's actors after this long without requests [5m]
  HTTP_THREADS        HTTP worker threads (each serves one connection) [128]
  MAX_CONNS_PER_IP    open connections per client address, more get 429 at once;
                      0 = no limit, TRUSTED_PROXIES exempt [256]
  MAX_BODY_BYTES      largest request body [10485760]
  READERS             reads of one tenant running at once [3]
  STORAGE_WORKERS     threads running every tenant's storage jobs (commits,
                      checkpoints, page reads, closes) [4]
  READER_CONNECTIONS  read-only SQLite connections open across all tenants; the
                      least recently used idle ones close beyond it [256]
  MAX_OPEN_TENANTS    tenants holding their database files at once; the least
                      recently used idle one stops to make room, 0 = derived from
                      the descriptor limit [0]
  PAGE_CACHE_BYTES    SQLite page caches across all tenants, shared out as each
                      connection's cache_size; 0 = none [268435456]
  IDEMPOTENCY_TTL     how long an idempotency key and its response are kept [24h]
  WRITER_QUEUE_EVENTS events a tenant's writer may hold uncommitted; beyond, appends
                      get 503 overloaded, nothing written [100000]
  WRITER_QUEUE_BYTES  bytes of events it may hold uncommitted [268435456]
  WAL_AUTOCHECKPOINT  WAL pages between checkpoints, 0 leaves it to a replicator [1000]
  STORE_LINGER        how long a storage worker stays awake after a job for the
                      next one (and after a lone client's commit run by its HTTP
                      thread), 0 = none [80us]
  LOG_LEVEL           debug, info, warn or error [info]
  ADMIN_API_KEY       a key for every tenant's metrics, the dashboard and backups
                      [none]
  METRICS_PUBLIC      serve Prometheus metrics without a key [false]
  DS_LONGPOLL_TIMEOUT how long a Durable Streams long-poll waits for data [20s]
  DS_SSE_LIFETIME     how long a Durable Streams SSE response lasts before the client
                      reconnects [60s]
  DS_MAX_STREAMS      Durable Streams a tenant may hold [10000]
  DS_MAX_STREAM_BYTES largest Durable Stream in bytes [1073741824]
  DS_ANONYMOUS_TENANT tenant that serves /v1/stream requests sent without a key
                      (for tests and public demos) [none: they get 401]
  LONGPOLL_MAX        the longest `wait` a GET /events may ask for, 0 = no waiting
                      [60s]
  HEARTBEAT           silence after which a follower of /events/stream gets a
                      keep-alive line [15s]

Durations use Go syntax: 500ms, 30s, 1m30s, 2h. Timeouts are at most 24h:
READ_TIMEOUT, WRITE_TIMEOUT, IDLE_TIMEOUT and SHUTDOWN_TIMEOUT are lowered to it (with
a warning), a longer REQUEST_TIMEOUT is refused; TENANT_IDLE_TIMEOUT and IDEMPOTENCY_TTL
are at most 8760h.
)";
}

} // namespace ebuse
