// Maps the environment's settings onto the options of the HTTP server and the tenants.
#include "app/startup.hpp"

#include <algorithm>

namespace ebuse {

http_options http_options_of(const server_config& cfg) {
  http_options o;
  o.host = cfg.host;
  o.port = cfg.port;
  o.connections.read_timeout = cfg.read_timeout;
  o.connections.write_timeout = cfg.write_timeout;
  o.connections.idle_timeout = cfg.idle_timeout;
  o.connections.threads = cfg.http_threads;
  o.request_timeout = cfg.request_timeout;
  o.max_body_bytes = cfg.max_body_bytes;
  o.enable_gzip = cfg.enable_gzip;
  o.gzip_min_bytes = cfg.gzip_min_bytes;
  o.metrics_public = cfg.metrics_public;
  o.trusted_proxies = cfg.trusted_proxies;
  o.rate_limits.per_ip = {cfg.rate_limit, cfg.rate_burst};
  // RATE_BURST_PER_KEY=0: twice the per-key rate.
  o.rate_limits.per_key = {cfg.rate_limit_per_key,
                           cfg.rate_burst_per_key > 0 ? cfg.rate_burst_per_key
                                                      : std::max(1, 2 * cfg.rate_limit_per_key)};
  return o;
}

tenant_options tenant_defaults_of(const server_config& cfg, tenant_options t) {
  t.readers = cfg.readers;
  t.store.wal_autocheckpoint = cfg.wal_autocheckpoint;
  t.writer.linger = std::chrono::duration_cast<std::chrono::microseconds>(cfg.store_linger);
  return t;
}

} // namespace ebuse
