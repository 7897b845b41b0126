// A real ebuse server in the test process: actor system, tenant, HTTP on a loopback port.
#pragma once

#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <httplib.h>

#include "actors/registry.hpp"
#include "app/config.hpp"
#include "app/pg_wakeups.hpp"
#include "app/startup.hpp"
#include "core/errc.hpp"
#include "http/server.hpp"
#include "obs/logger.hpp"
#include "storage/pg_reader.hpp"
#include "storage/pg_schema.hpp"
#include "support/pg_cluster.hpp"

namespace ebuse::test {

/// Whether this run serves single-tenant test servers from PostgreSQL
/// (EBUSE_TEST_STORAGE=postgres; ctest runs http_tests a second time so): each server
/// gets a fresh database on the run's private cluster. Tests of SQLite-only behaviour
/// are tagged [sqlite] and left out of that run.
inline bool pg_mode() {
  const char* v = std::getenv("EBUSE_TEST_STORAGE");
  return v && std::string{v} == "postgres";
}

/// Starts the server on 127.0.0.1 with an ephemeral port over the database `db_path`;
/// stops it (gracefully, like SIGTERM) on destruction or stop().
class test_server {
public:
  static constexpr const char* key = "test-key";

  /// Adjusts the HTTP options derived from the configuration (a test clock, ...).
  using http_adjust = std::function<void(http_options&)>;

  /// Single-tenant mode over `db_path`, with the key `key`.
  explicit test_server(std::string db_path, server_config cfg = default_config(),
                       http_adjust adjust = {})
    : test_server(single_tenant(db_path, cfg), with_db(cfg, db_path), std::move(adjust)) {
  }

  /// Any registry configuration (multi-tenant mode when `ropts.multi_tenant`).
  test_server(registry_options ropts, server_config cfg, http_adjust adjust = {}) {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg_ = cfg;
    log::set_level(cfg.log_level);
    sys_ = std::make_unique<caf::actor_system>(sys_cfg_);
    ropts.defaults = tenant_defaults_of(cfg, ropts.defaults);
    std::string pg_url = ropts.tenants.empty() ? "" : ropts.tenants.front().database_url;
    auto reg = tenant_registry::start(*sys_, std::move(ropts));
    if (!reg)
      throw std::runtime_error("tenant start failed: " + message_of(reg.error()));
    registry_ = *reg;
    if (!pg_url.empty())
      wakeups_ = std::make_unique<pg_wakeups>(pg_url, registry_);
    auto hopts = http_options_of(cfg);
    if (adjust)
      adjust(hopts);
    server_ = std::make_unique<http_server>(hopts, registry_, *sys_);
    port_ = server_->bind();
    if (port_ <= 0)
      throw std::runtime_error("bind failed");
    thread_ = std::thread{[this] { server_->run(); }};
  }

  /// The registry options of single-tenant mode, as main() builds them.
  static registry_options single_tenant(const std::string& db_path, const server_config&) {
    registry_options ropts;
    ropts.tenants.push_back(tenant_spec{"default", db_path, digest_of(key), ""});
    ropts.eager = true;
    ropts.multi_tenant = false;
    if (pg_mode()) {
      auto url = pg_database_of(db_path);
      ropts.tenants.front().database_url = url;
      ropts.defaults.pg_readers = std::make_shared<pg_reader_pool>(url);
    }
    return ropts;
  }

  /// The PostgreSQL database standing for the SQLite file `db_path` in pg_mode(): a
  /// fresh one the first time, the same one again when a test restarts its server.
  static std::string pg_database_of(const std::string& db_path) {
    static std::mutex mtx;
    static std::map<std::string, std::string> urls;
    std::lock_guard<std::mutex> guard{mtx};
    auto& url = urls[db_path];
    if (url.empty()) {
      url = shared_pg().create_database();
      if (auto err = pg::migrate_schema(url))
        throw std::runtime_error("migrate: " + message_of(err));
    }
    return url;
  }

  ~test_server() {
    stop();
  }

  /// Stops HTTP only and waits until it has finished; from any thread (stop(), which
  /// also ends the actor system, must run on the thread that started the server).
  void stop_http() {
    if (server_)
      server_->stop();
    if (thread_.joinable())
      thread_.join();
  }

  /// Stops HTTP, then the tenant's actors (the writer commits what is pending), then
  /// waits for every actor to finish.
  void stop() {
    if (!server_)
      return;
    server_->stop();
    if (thread_.joinable())
      thread_.join();
    server_.reset();
    wakeups_.reset();
    registry_->stop_all();
    registry_.reset();
    sys_.reset();
  }

  static server_config with_db(server_config cfg, const std::string& db_path) {
    cfg.api_key = key;
    cfg.db_path = db_path;
    return cfg;
  }

  /// Quiet defaults for tests: no request log lines, and rate limits too high to
  /// interfere (tests of the limiter set their own).
  static server_config default_config() {
    server_config cfg;
    cfg.log_level = "warn";
    cfg.rate_limit = 1000000;
    cfg.rate_burst = 1000000;
    return cfg;
  }

  int port() const {
    return port_;
  }

  /// A client with the API key set and sane timeouts.
  std::unique_ptr<httplib::Client> client(bool with_key = true) const {
    auto cli = std::make_unique<httplib::Client>("127.0.0.1", port_);
    cli->set_connection_timeout(5);
    cli->set_read_timeout(30);
    cli->set_write_timeout(30);
    if (with_key)
      cli->set_default_headers({{"X-API-Key", key}});
    return cli;
  }

  /// The running tenant.
  std::shared_ptr<tenant> get_tenant() const {
    return registry_->running().front();
  }

  const std::shared_ptr<tenant_registry>& registry() const {
    return registry_;
  }

private:
  server_config cfg_;
  caf::actor_system_config sys_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<tenant_registry> registry_;
  std::unique_ptr<pg_wakeups> wakeups_;
  std::unique_ptr<http_server> server_;
  std::thread thread_;
  int port_ = 0;
};

} // namespace ebuse::test
