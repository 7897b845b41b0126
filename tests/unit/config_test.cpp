// Unit tests for the configuration: environment values, --help, durations in the log.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "app/config.hpp"
#include "app/config_log.hpp"
#include "app/startup.hpp"

using namespace ebuse;

TEST_CASE("durations are logged in Go's short form") {
  using namespace std::chrono;
  CHECK(format_duration(seconds(30)) == "30s");
  CHECK(format_duration(seconds(90)) == "1m30s");
  CHECK(format_duration(minutes(2)) == "2m");
  CHECK(format_duration(hours(1) + seconds(5)) == "1h5s");
  CHECK(format_duration(milliseconds(500)) == "500ms");
  CHECK(format_duration(nanoseconds(0)) == "0s");
  CHECK(format_duration(nanoseconds(1500)) == "1500ns");
}

namespace {

env_lookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> const char* {
    auto i = vars.find(name);
    return i == vars.end() ? nullptr : i->second.c_str();
  };
}

} // namespace

TEST_CASE("every configuration variable rejects invalid values by name and form") {
  struct bad {
    const char* name;
    const char* value;
    const char* form; ///< part of the accepted form the message must state
  };
  const bad cases[] = {
    {"PORT", "x", "integer from 0 to 65535"},
    {"PORT", "65536", "integer from 0 to 65535"},
    {"RATE_LIMIT", "-1", "integer from 0"},
    {"RATE_LIMIT", "1.5", "integer from 0"},
    {"RATE_BURST", "0", "integer from 1"},
    {"RATE_LIMIT_PER_KEY", "many", "integer from 0"},
    {"RATE_BURST_PER_KEY", "-3", "integer from 0"},
    {"ENABLE_GZIP", "yes", "true or false"},
    {"GZIP_MIN_BYTES", "1k", "integer from 0"},
    {"READ_TIMEOUT", "30", "Go duration"},
    {"READ_TIMEOUT", "0", "positive Go duration"},
    {"WRITE_TIMEOUT", "1 m", "Go duration"},
    {"IDLE_TIMEOUT", "-5s", "Go duration"},
    {"SHUTDOWN_TIMEOUT", "soon", "Go duration"},
    {"REQUEST_TIMEOUT", "1d", "Go duration"},
    {"HTTP_THREADS", "1", "integer from 2 to 4096"},
    {"MAX_CONNS_PER_IP", "-1", "integer from 0 to 1000000"},
    {"MAX_BODY_BYTES", "100", "integer from 1024"},
    {"READERS", "0", "integer from 1 to 64"},
    {"STORAGE_WORKERS", "0", "integer from 1 to 256"},
    {"READER_CONNECTIONS", "0", "integer from 1 to 1000000"},
    {"MAX_OPEN_TENANTS", "-1", "integer from 0 to 1000000"},
    {"MAX_OPEN_TENANTS", "many", "integer from 0 to 1000000"},
    {"PAGE_CACHE_BYTES", "-1", "integer from 0"},
    {"WAL_AUTOCHECKPOINT", "-1", "integer from 0"},
    {"STORE_LINGER", "11ms", "from 0 to 10ms"},
    {"STORE_LINGER", "-1us", "from 0 to 10ms"},
    {"LOG_LEVEL", "loud", "debug, info, warn or error"},
    {"TRUSTED_PROXIES", "10.0.0.0/33", "CIDR ranges"},
    {"TRUSTED_PROXIES", "proxy.local", "CIDR ranges"},
    {"DS_LONGPOLL_TIMEOUT", "0", "positive Go duration up to 10m"},
    {"DS_LONGPOLL_TIMEOUT", "11m", "positive Go duration up to 10m"},
    {"DS_LONGPOLL_TIMEOUT", "20", "positive Go duration up to 10m"},
    {"DS_SSE_LIFETIME", "0", "positive Go duration up to 1h"},
    {"DS_SSE_LIFETIME", "2h", "positive Go duration up to 1h"},
    {"DS_MAX_STREAMS", "0", "integer from 1"},
    {"DS_MAX_STREAMS", "lots", "integer from 1"},
    {"DS_MAX_STREAM_BYTES", "1G", "integer from 1"},
    {"DS_ANONYMOUS_TENANT", "no such/tenant", "tenant name"},
    {"LONGPOLL_MAX", "2h", "Go duration up to 1h"},
    {"LONGPOLL_MAX", "-1s", "Go duration up to 1h"},
    {"HEARTBEAT", "0", "positive Go duration up to 10m"},
    {"HEARTBEAT", "11m", "positive Go duration up to 10m"},
  };
  for (const auto& c : cases) {
    INFO(c.name << "=" << c.value);
    server_config cfg;
    std::string err;
    CHECK_FALSE(load_env_config(env_of({{c.name, c.value}}), cfg, err));
    CHECK(err.find(c.name) != std::string::npos);
    CHECK(err.find(c.form) != std::string::npos);
  }
  server_config cfg;
  std::string err;
  REQUIRE(load_env_config(env_of({{"TRUSTED_PROXIES", "10.0.0.0/8, ::1"},
                                  {"RATE_LIMIT_PER_KEY", "50"},
                                  {"GZIP_MIN_BYTES", "0"},
                                  {"RATE_LIMIT", "0"},
                                  {"STORE_LINGER", "0"}}),
                          cfg, err));
  CHECK(cfg.trusted_proxies == "10.0.0.0/8, ::1");
  CHECK(cfg.rate_limit_per_key == 50);
  CHECK(cfg.rate_burst_per_key == 0);
  CHECK(cfg.gzip_min_bytes == 0);
  CHECK(cfg.rate_limit == 0);
  CHECK(cfg.store_linger.count() == 0);
  REQUIRE(load_env_config(env_of({{"STORE_LINGER", "250us"}}), cfg, err));
  CHECK(cfg.store_linger == std::chrono::microseconds(250));
  REQUIRE(load_env_config(env_of({{"DS_LONGPOLL_TIMEOUT", "2s"},
                                  {"DS_SSE_LIFETIME", "90s"},
                                  {"DS_MAX_STREAMS", "5"},
                                  {"DS_MAX_STREAM_BYTES", "1048576"},
                                  {"DS_ANONYMOUS_TENANT", "public-demo"}}),
                          cfg, err));
  CHECK(cfg.ds_longpoll_timeout == std::chrono::seconds(2));
  CHECK(cfg.ds_sse_lifetime == std::chrono::seconds(90));
  CHECK(cfg.ds_max_streams == 5);
  CHECK(cfg.ds_max_stream_bytes == 1048576);
  CHECK(cfg.ds_anonymous_tenant == "public-demo");
  REQUIRE(load_env_config(env_of({{"LONGPOLL_MAX", "5m"}, {"HEARTBEAT", "250ms"}}), cfg, err));
  CHECK(cfg.longpoll_max == std::chrono::minutes(5));
  CHECK(cfg.heartbeat == std::chrono::milliseconds(250));
}

TEST_CASE("--help lists every variable with its default") {
  auto help = usage_text();
  const std::pair<const char*, const char*> vars[] = {
    {"HOST", "[0.0.0.0]"}, {"PORT", "[8080]"}, {"API_KEY", "[none"}, {"DB_PATH", "[events.db]"},
    {"RATE_LIMIT", "[100]"}, {"RATE_BURST", "[200]"}, {"RATE_LIMIT_PER_KEY", "[0]"},
    {"RATE_BURST_PER_KEY", "[0]"}, {"TRUSTED_PROXIES", "[none]"}, {"ENABLE_GZIP", "[true]"},
    {"GZIP_MIN_BYTES", "[1024]"}, {"READ_TIMEOUT", "[30s]"}, {"WRITE_TIMEOUT", "[60s]"},
    {"IDLE_TIMEOUT", "[120s]"}, {"SHUTDOWN_TIMEOUT", "[30s]"}, {"REQUEST_TIMEOUT", "[30s]"},
    {"HTTP_THREADS", "[128]"}, {"MAX_CONNS_PER_IP", "[256]"}, {"MAX_BODY_BYTES", "[10485760]"}, {"READERS", "[3]"},
    {"STORAGE_WORKERS", "[4]"}, {"READER_CONNECTIONS", "[256]"}, {"MAX_OPEN_TENANTS", "[0]"},
    {"PAGE_CACHE_BYTES", "[268435456]"},
    {"WAL_AUTOCHECKPOINT", "[1000]"}, {"STORE_LINGER", "[80us]"}, {"LOG_LEVEL", "[info]"},
    {"DS_LONGPOLL_TIMEOUT", "[20s]"}, {"DS_SSE_LIFETIME", "[60s]"}, {"DS_MAX_STREAMS", "[10000]"},
    {"DS_MAX_STREAM_BYTES", "[1073741824]"}, {"DS_ANONYMOUS_TENANT", "[none"},
    {"LONGPOLL_MAX", "[60s]"}, {"HEARTBEAT", "[15s]"},
  };
  for (auto [name, def] : vars) {
    INFO(name);
    auto at = help.find(std::string{"\n  "} + name + " ");
    REQUIRE(at != std::string::npos);
    auto next = help.find("\n  ", at + 3);
    // The default may sit on a continuation line of the entry.
    while (next != std::string::npos && help.compare(next + 3, 1, " ") == 0)
      next = help.find("\n  ", next + 3);
    CHECK(help.substr(at, next - at).find(def) != std::string::npos);
  }
  CHECK(help.find("--version") != std::string::npos);
  CHECK(help.find("-config") != std::string::npos);
}

TEST_CASE("environment values are validated and errors name the variable") {
  auto env_of = [](std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> const char* {
      auto i = vars.find(name);
      return i == vars.end() ? nullptr : i->second.c_str();
    };
  };
  server_config cfg;
  std::string err;
  REQUIRE(load_env_config(env_of({{"PORT", "9000"}, {"READ_TIMEOUT", "1m30s"},
                                  {"ENABLE_GZIP", "F"}, {"SHUTDOWN_TIMEOUT", "0"}}),
                          cfg, err));
  CHECK(cfg.port == 9000);
  CHECK(cfg.read_timeout == std::chrono::seconds(90));
  CHECK_FALSE(cfg.enable_gzip);
  CHECK(cfg.shutdown_timeout.count() == 0);
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
         {"PORT", "http"}, {"PORT", "70000"}, {"READ_TIMEOUT", "30"},
         {"READ_TIMEOUT", "-1s"}, {"WRITE_TIMEOUT", "0"}, {"ENABLE_GZIP", "yes"},
         {"RATE_LIMIT", "-5"}, {"HTTP_THREADS", "1"}, {"LOG_LEVEL", "loud"}}) {
    server_config c;
    std::string e;
    INFO(name << "=" << value);
    CHECK_FALSE(load_env_config(env_of({{name, value}}), c, e));
    CHECK(e.find(name) != std::string::npos);
  }
  std::chrono::nanoseconds d;
  REQUIRE(parse_go_duration("1.5h", d));
  CHECK(d == std::chrono::minutes(90));
  REQUIRE(parse_go_duration("300ms", d));
  CHECK(d == std::chrono::milliseconds(300));
  CHECK_FALSE(parse_go_duration("", d));
  CHECK_FALSE(parse_go_duration("5 s", d));
  CHECK_FALSE(parse_go_duration("s", d));
}

TEST_CASE("settings derived from others hold at the largest accepted values") {
  server_config cfg;
  std::string err;
  REQUIRE(load_env_config(env_of({{"RATE_LIMIT_PER_KEY", "1000000000"},
                                  {"RATE_LIMIT", "1000000000"},
                                  {"RATE_BURST", "1000000000"}}),
                          cfg, err));
  auto o = http_options_of(cfg);
  // RATE_BURST_PER_KEY unset: twice the rate.
  CHECK(o.rate_limits.per_key.per_second == 1000000000);
  CHECK(o.rate_limits.per_key.burst == 2000000000);
  CHECK(o.rate_limits.per_ip.burst == 1000000000);
}

TEST_CASE("durations are bounded: the original's timeouts lowered, ours refused") {
  // The longest duration Go's syntax gives in int64 nanoseconds: now() + it overflows.
  const std::string huge = "2562047h";
  for (auto name : {"READ_TIMEOUT", "WRITE_TIMEOUT", "IDLE_TIMEOUT", "SHUTDOWN_TIMEOUT"}) {
    INFO(name);
    server_config cfg;
    std::string err;
    REQUIRE(load_env_config(env_of({{name, huge}}), cfg, err));
    REQUIRE(cfg.clamped.size() == 1);
    CHECK(cfg.clamped[0].name == name);
    CHECK(cfg.clamped[0].given == huge);
    for (auto d : {cfg.read_timeout, cfg.write_timeout, cfg.idle_timeout, cfg.shutdown_timeout})
      CHECK(d <= max_timeout);
    // At the maximum itself nothing is lowered.
    REQUIRE(load_env_config(env_of({{name, "24h"}}), cfg, err));
    CHECK(cfg.clamped.empty());
    REQUIRE(load_env_config(env_of({{name, "24h0m0.000000001s"}}), cfg, err));
    CHECK(cfg.clamped.size() == 1);
  }
  server_config cfg;
  std::string err;
  REQUIRE(load_env_config(env_of({{"IDLE_TIMEOUT", huge}}), cfg, err));
  CHECK(cfg.idle_timeout == std::chrono::hours(24));

  for (auto [name, value, limit] :
       {std::tuple{"REQUEST_TIMEOUT", "24h0m1s", "up to 24h"},
        std::tuple{"REQUEST_TIMEOUT", "2562047h", "up to 24h"},
        std::tuple{"TENANT_IDLE_TIMEOUT", "8761h", "up to 8760h"},
        std::tuple{"TENANT_IDLE_TIMEOUT", "2562047h", "up to 8760h"}}) {
    INFO(name << "=" << value);
    server_config c;
    CHECK_FALSE(load_env_config(env_of({{name, value}}), c, err));
    CHECK(err.find(name) != std::string::npos);
    CHECK(err.find(limit) != std::string::npos);
  }
  REQUIRE(load_env_config(env_of({{"REQUEST_TIMEOUT", "24h"}, {"TENANT_IDLE_TIMEOUT", "8760h"}}),
                          cfg, err));
  CHECK(cfg.request_timeout == std::chrono::hours(24));
  CHECK(cfg.tenant_idle_timeout == std::chrono::hours(8760));
}

TEST_CASE("STORAGE and DATABASE_URL choose the storage, and errors name the variable") {
  server_config cfg;
  std::string err;
  REQUIRE(load_env_config(env_of({}), cfg, err));
  CHECK(cfg.storage == "sqlite");
  CHECK(cfg.database_url.empty());
  CHECK(cfg.pg_readers == 8);

  cfg = {};
  REQUIRE(load_env_config(env_of({{"STORAGE", "postgres"},
                                  {"DATABASE_URL", "postgresql://u:pw@127.0.0.1:5432/db"},
                                  {"PG_READERS", "3"}}),
                          cfg, err));
  CHECK(cfg.storage == "postgres");
  CHECK(cfg.database_url == "postgresql://u:pw@127.0.0.1:5432/db");
  CHECK(cfg.pg_readers == 3);

  struct bad {
    std::map<std::string, std::string> env;
    const char* names; ///< the variable the message must name
    const char* form;  ///< part of what it must say
  };
  const bad cases[] = {
    {{{"STORAGE", "mysql"}}, "STORAGE", "sqlite or postgres"},
    {{{"STORAGE", "postgres"}}, "DATABASE_URL", "postgresql://"},
    {{{"DATABASE_URL", "postgresql://h/db"}}, "DATABASE_URL", "STORAGE=postgres"},
    {{{"STORAGE", "postgres"}, {"DATABASE_URL", "mysql://u:secret@h/db"}}, "DATABASE_URL",
     "invalid"},
    {{{"PG_READERS", "0"}}, "PG_READERS", "integer from 1 to 256"},
  };
  for (const auto& c : cases) {
    cfg = {};
    err.clear();
    CHECK_FALSE(load_env_config(env_of(c.env), cfg, err));
    INFO(err);
    CHECK(err.find(c.names) != std::string::npos);
    CHECK(err.find(c.form) != std::string::npos);
    CHECK(err.find("secret") == std::string::npos);
  }
}

TEST_CASE("a single-tenant PostgreSQL node serves tenant default from DATABASE_URL") {
  server_config cfg;
  std::string err;
  REQUIRE(load_env_config(env_of({{"STORAGE", "postgres"},
                                  {"DATABASE_URL", "postgresql://127.0.0.1:1/db"},
                                  {"API_KEY", "k"}}),
                          cfg, err));
  tenancy plan;
  REQUIRE(plan_tenants(cfg, plan, err));
  REQUIRE(plan.registry.tenants.size() == 1);
  CHECK(plan.registry.tenants[0].name == "default");
  CHECK(plan.registry.tenants[0].database_url == "postgresql://127.0.0.1:1/db");
  CHECK(plan.storage.storage == "postgres");
  CHECK(plan.registry.defaults.pg_readers != nullptr);
  // The read workers exist on PostgreSQL only.
  CHECK(plan.registry.defaults.pg_jobs != nullptr);

  server_config sqlite_cfg;
  sqlite_cfg.api_key = "k";
  tenancy sqlite_plan;
  REQUIRE(plan_tenants(sqlite_cfg, sqlite_plan, err));
  CHECK(sqlite_plan.registry.tenants[0].database_url.empty());
  CHECK(sqlite_plan.registry.defaults.pg_readers == nullptr);
  CHECK(sqlite_plan.registry.defaults.pg_jobs == nullptr);
}
