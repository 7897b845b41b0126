// Renders the configuration for the start-up line, keys redacted.
#include "app/config_log.hpp"

namespace ebuse {

std::string format_duration(std::chrono::nanoseconds d) {
  auto ns = d.count();
  if (ns == 0)
    return "0s";
  if (ns % 1000000000 == 0) {
    auto s = ns / 1000000000;
    std::string out;
    if (s >= 3600)
      out += std::to_string(s / 3600) + "h";
    if (s >= 60 && s % 3600 / 60)
      out += std::to_string(s % 3600 / 60) + "m";
    if (s % 60 || out.empty())
      out += std::to_string(s % 60) + "s";
    return out;
  }
  if (ns % 1000000 == 0)
    return std::to_string(ns / 1000000) + "ms";
  if (ns % 1000 == 0)
    return std::to_string(ns / 1000) + "us";
  return std::to_string(ns) + "ns";
}

std::vector<log::field> config_fields(const server_config& cfg) {
  auto num = [](int64_t v) { return log::num(v); };
  auto dur = [](std::chrono::nanoseconds d) { return log::str(format_duration(d)); };
  auto flag = [](bool b) { return std::string{b ? "true" : "false"}; };
  std::vector<log::field> f = {
    {"host", log::str(cfg.host)},
    {"db_path", log::str(cfg.db_path)},
    {"config_file", log::str(cfg.config_file)},
    {"api_key", log::str(cfg.api_key.empty() ? "unset"
                                              : (cfg.dev_key ? "generated (development)"
                                                             : "set (redacted)"))},
    {"rate_limit", num(cfg.rate_limit)},
    {"rate_burst", num(cfg.rate_burst)},
    {"rate_limit_per_key", num(cfg.rate_limit_per_key)},
    {"rate_burst_per_key", num(cfg.rate_burst_per_key)},
    {"trusted_proxies", log::str(cfg.trusted_proxies)},
    {"enable_gzip", flag(cfg.enable_gzip)},
    {"gzip_min_bytes", num(static_cast<int64_t>(cfg.gzip_min_bytes))},
    {"read_timeout", dur(cfg.read_timeout)},
    {"write_timeout", dur(cfg.write_timeout)},
    {"idle_timeout", dur(cfg.idle_timeout)},
    {"shutdown_timeout", dur(cfg.shutdown_timeout)},
    {"request_timeout", dur(cfg.request_timeout)},
    {"http_threads", num(cfg.http_threads)},
    {"max_conns_per_ip", num(cfg.max_conns_per_ip)},
    {"max_body_bytes", num(static_cast<int64_t>(cfg.max_body_bytes))},
    {"readers", num(static_cast<int64_t>(cfg.readers))},
    {"storage_workers", num(static_cast<int64_t>(cfg.storage_workers))},
    {"reader_connections", num(static_cast<int64_t>(cfg.reader_connections))},
    {"max_open_tenants", num(cfg.max_open_tenants)},
    {"page_cache_bytes", num(cfg.page_cache_bytes)},
    {"idempotency_ttl", dur(cfg.idempotency_ttl)},
    {"writer_queue_events", num(cfg.writer_queue_events)},
    {"writer_queue_bytes", num(cfg.writer_queue_bytes)},
    {"wal_autocheckpoint", num(cfg.wal_autocheckpoint)},
    {"store_linger", dur(cfg.store_linger)},
    {"log_level", log::str(cfg.log_level)},
    {"tenant_idle_timeout", dur(cfg.tenant_idle_timeout)},
    {"admin_api_key", log::str(cfg.admin_api_key.empty() ? "unset" : "set (redacted)")},
    {"metrics_public", flag(cfg.metrics_public)},
    {"ds_longpoll_timeout", dur(cfg.ds_longpoll_timeout)},
    {"ds_sse_lifetime", dur(cfg.ds_sse_lifetime)},
    {"longpoll_max", dur(cfg.longpoll_max)},
    {"heartbeat", dur(cfg.heartbeat)},
    {"ds_max_streams", num(cfg.ds_max_streams)},
    {"ds_max_stream_bytes", num(cfg.ds_max_stream_bytes)},
    {"ds_anonymous_tenant", log::str(cfg.ds_anonymous_tenant)},
  };
  return f;
}

} // namespace ebuse
