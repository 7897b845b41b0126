// A real ebuse server in the test process: actor system, tenant, HTTP on a loopback port.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <httplib.h>

#include "actors/tenant.hpp"
#include "http/config.hpp"
#include "http/logger.hpp"
#include "http/server.hpp"

namespace ebuse::test {

/// Starts the server on 127.0.0.1 with an ephemeral port over the database `db_path`;
/// stops it (gracefully, like SIGTERM) on destruction or stop().
class test_server {
public:
  static constexpr const char* key = "test-key";

  explicit test_server(std::string db_path, server_config cfg = default_config()) {
    cfg.host = "127.0.0.1";
    cfg.port = 0;
    cfg.api_key = key;
    cfg.db_path = std::move(db_path);
    cfg_ = cfg;
    log::set_level(cfg.log_level);
    sys_ = std::make_unique<caf::actor_system>(sys_cfg_);
    tenant_options topts;
    topts.name = "default";
    topts.db_path = cfg.db_path;
    topts.readers = cfg.readers;
    topts.store.wal_autocheckpoint = cfg.wal_autocheckpoint;
    auto t = tenant::start(*sys_, topts);
    if (!t)
      throw std::runtime_error("tenant start failed: " + message_of(t.error()));
    tenant_ = *t;
    server_ = std::make_unique<http_server>(
      cfg, std::make_shared<single_tenant_directory>(cfg.api_key, tenant_), *sys_);
    port_ = server_->bind();
    if (port_ <= 0)
      throw std::runtime_error("bind failed");
    thread_ = std::thread{[this] { server_->run(); }};
  }

  ~test_server() {
    stop();
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
    tenant_->stop();
    tenant_.reset();
    sys_.reset();
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

  const std::shared_ptr<tenant>& get_tenant() const {
    return tenant_;
  }

private:
  server_config cfg_;
  caf::actor_system_config sys_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<tenant> tenant_;
  std::unique_ptr<http_server> server_;
  std::thread thread_;
  int port_ = 0;
};

} // namespace ebuse::test
