// Maps the environment's settings onto the options of the HTTP server and the tenants.
#include "app/startup.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

#include "app/tenants_file.hpp"
#include "obs/logger.hpp"
#include "storage/pg_reader.hpp"
#include "storage/reader_pool.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

namespace {

std::string random_key() {
  std::random_device rd;
  static const char hex[] = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 32; ++i)
    key.push_back(hex[rd() & 0xf]);
  return key;
}

void log_warnings(const tenants_file& file) {
  for (const auto& w : file.warnings)
    log::write(log::level::warn, "tenants file", {{"warning", log::str(w)}});
}

// The registry's lifecycle events, as log lines.
void log_tenant_event(std::string_view event, std::string_view tenant, std::string_view detail) {
  bool bad = event == "writer died" || event == "tenant failed to start";
  log::write(bad ? log::level::error : log::level::info, event,
             {{"tenant", log::str(tenant)}, {"detail", log::str(detail)}});
}

// Single-tenant mode is the same registry with one tenant, opened at start so that an
// unusable DB_PATH fails now rather than at the first request.
void plan_single_tenant(server_config& cfg, registry_options& ropts) {
  if (cfg.api_key.empty()) {
    cfg.api_key = random_key();
    cfg.dev_key = true;
    std::fprintf(stderr,
                 "\n  API_KEY is not set: generated a DEVELOPMENT key for this run only.\n"
                 "  Use it as:  X-API-Key: %s\n"
                 "  Set API_KEY for anything but local development.\n\n",
                 cfg.api_key.c_str());
  }
  ropts.tenants.push_back(tenant_spec{"default", cfg.db_path, digest_of(cfg.api_key),
                                      cfg.storage == "postgres" ? cfg.database_url : ""});
  ropts.eager = true;
  ropts.multi_tenant = false;
}

// DS_ANONYMOUS_TENANT must name a tenant that exists.
bool check_anonymous_tenant(const server_config& cfg, const tenancy& plan, std::string& err) {
  const auto& name = cfg.ds_anonymous_tenant;
  const auto& tenants = plan.registry.tenants;
  if (name.empty()
      || std::any_of(tenants.begin(), tenants.end(),
                     [&](const tenant_spec& t) { return t.name == name; }))
    return true;
  err = "invalid DS_ANONYMOUS_TENANT=\"" + name + "\": no configured tenant has this name"
        + (plan.multi_tenant ? "" : " (single-tenant mode serves \"default\")");
  return false;
}

} // namespace

http_options http_options_of(const server_config& cfg) {
  http_options o;
  o.host = cfg.host;
  o.port = cfg.port;
  o.connections.read_timeout = cfg.read_timeout;
  o.connections.write_timeout = cfg.write_timeout;
  o.connections.idle_timeout = cfg.idle_timeout;
  o.connections.threads = cfg.http_threads;
  o.connections.max_conns_per_ip = cfg.max_conns_per_ip;
  o.request_timeout = cfg.request_timeout;
  o.max_body_bytes = cfg.max_body_bytes;
  o.enable_gzip = cfg.enable_gzip;
  o.gzip_min_bytes = cfg.gzip_min_bytes;
  o.metrics_public = cfg.metrics_public;
  o.streams.longpoll_timeout = cfg.ds_longpoll_timeout;
  o.streams.sse_lifetime = cfg.ds_sse_lifetime;
  o.streams.anonymous_tenant = cfg.ds_anonymous_tenant;
  o.trusted_proxies = cfg.trusted_proxies;
  o.live.longpoll_max = cfg.longpoll_max;
  o.live.heartbeat = cfg.heartbeat;
  o.rate_limits.per_ip = {cfg.rate_limit, cfg.rate_burst};
  // RATE_BURST_PER_KEY=0: twice the per-key rate.
  o.rate_limits.per_key = {cfg.rate_limit_per_key,
                           cfg.rate_burst_per_key > 0 ? cfg.rate_burst_per_key
                                                      : std::max(1, 2 * cfg.rate_limit_per_key)};
  return o;
}

tenant_options tenant_defaults_of(const server_config& cfg, tenant_options t) {
  t.readers = cfg.readers;
  auto linger = std::chrono::duration_cast<std::chrono::microseconds>(cfg.store_linger);
  t.writer.pool = std::make_shared<worker_pool>(cfg.storage_workers, linger);
  t.reader_connections = std::make_shared<reader_pool>(cfg.reader_connections);
  // PostgreSQL reads block on the network: they get threads of their own, one per
  // reader connection, so that they neither wait for commits nor hold up the storage pool.
  if (t.pg_readers && !t.pg_jobs)
    t.pg_jobs = std::make_shared<worker_pool>(t.pg_readers->size(), linger);
  t.store.wal_autocheckpoint = cfg.wal_autocheckpoint;
  t.writer.streams = stream_limits{cfg.ds_max_streams, cfg.ds_max_stream_bytes};
  t.writer.queue_events = static_cast<uint64_t>(cfg.writer_queue_events);
  t.writer.idempotency_ttl =
    std::chrono::duration_cast<std::chrono::milliseconds>(cfg.idempotency_ttl);
  t.writer.queue_bytes = static_cast<uint64_t>(cfg.writer_queue_bytes);
  return t;
}

bool plan_tenants(server_config& cfg, tenancy& out, std::string& err) {
  auto& ropts = out.registry;
  ropts.defaults = tenant_defaults_of(cfg);
  ropts.idle_timeout = cfg.tenant_idle_timeout;
  ropts.on_event = log_tenant_event;
  out.multi_tenant = !cfg.config_file.empty();
  out.env_storage = storage_choice{cfg.storage, cfg.database_url};
  out.storage = out.env_storage;
  if (out.multi_tenant) {
    tenants_file file;
    if (!load_tenants_file(cfg.config_file, file, err)
        || !settle_storage(file, out.env_storage, out.storage, err))
      return false;
    if (out.storage.storage == "sqlite" && !ensure_data_dir(file.data_dir, err))
      return false;
    log_warnings(file);
    ropts.tenants = std::move(file.tenants);
    ropts.admin_keys = std::move(file.admin_keys);
  } else {
    plan_single_tenant(cfg, ropts);
  }
  if (out.storage.storage == "postgres") {
    pg_options popts;
    popts.readers = cfg.pg_readers;
    ropts.defaults.pg_readers = std::make_shared<pg_reader_pool>(out.storage.database_url, popts);
    ropts.defaults.pg_jobs = std::make_shared<worker_pool>(
      cfg.pg_readers, std::chrono::duration_cast<std::chrono::microseconds>(cfg.store_linger));
  }
  if (!cfg.admin_api_key.empty())
    out.env_admins.push_back(digest_of(cfg.admin_api_key));
  ropts.admin_keys.insert(ropts.admin_keys.end(), out.env_admins.begin(),
                          out.env_admins.end());
  return check_anonymous_tenant(cfg, out, err);
}

void reload_tenants_file(const std::string& path, tenant_registry& registry,
                         const tenancy& plan) {
  tenants_file file;
  std::string err;
  if (!reload_tenants(path, registry, file, err, plan.env_admins, plan.env_storage,
                      plan.storage)) {
    log::write(log::level::error, "reload rejected; keeping the running configuration",
               {{"error", log::str(err)}});
    return;
  }
  log_warnings(file);
  log::write(log::level::info, "configuration reloaded",
             {{"tenants", log::num(static_cast<int64_t>(file.tenants.size()))}});
}

} // namespace ebuse
