// ebuse entry point: configuration, actor system, tenant registry, HTTP server, signals.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/registry.hpp"
#include "http/config.hpp"
#include "http/config_log.hpp"
#include "http/lifecycle.hpp"
#include "http/logger.hpp"
#include "http/server.hpp"
#include "http/tenants_file.hpp"

namespace {

using namespace ebuse;

constexpr int exit_usage = 2;

std::string random_key() {
  std::random_device rd;
  static const char hex[] = "0123456789abcdef";
  std::string key;
  for (int i = 0; i < 32; ++i)
    key.push_back(hex[rd() & 0xf]);
  return key;
}

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ebuse: %s\n(see ebuse --help)\n", msg.c_str());
  return exit_usage;
}

void log_warnings(const tenants_file& file) {
  for (const auto& w : file.warnings)
    log::write(log::level::warn, "tenants file", {{"warning", log::str(w)}});
}

// Re-reads the tenants file; an invalid file leaves the running configuration.
void reload(const std::string& path, tenant_registry& registry,
            const std::vector<key_digest>& env_admins) {
  tenants_file file;
  std::string err;
  if (!reload_tenants(path, registry, file, err, env_admins)) {
    log::write(log::level::error, "reload rejected; keeping the running configuration",
               {{"error", log::str(err)}});
    return;
  }
  log_warnings(file);
  log::write(log::level::info, "configuration reloaded",
             {{"tenants", log::num(static_cast<int64_t>(file.tenants.size()))}});
}

} // namespace

int main(int argc, char** argv) {
  server_config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      std::fputs(usage_text().c_str(), stdout);
      return 0;
    }
    if (arg == "--version" || arg == "-version") {
      std::printf("ebuse %s\n", EBUSE_VERSION);
      return 0;
    }
    if (arg == "-config" || arg == "--config") {
      if (i + 1 >= argc)
        return usage_error(arg + " needs a file name");
      cfg.config_file = argv[++i];
      continue;
    }
    return usage_error("unknown argument: " + arg);
  }
  std::string err;
  if (!load_env_config([](const char* name) { return std::getenv(name); }, cfg, err))
    return usage_error(err);
  log::set_level(cfg.log_level);

  registry_options ropts;
  ropts.defaults.readers = cfg.readers;
  ropts.defaults.store.wal_autocheckpoint = cfg.wal_autocheckpoint;
  ropts.defaults.writer.linger =
    std::chrono::duration_cast<std::chrono::microseconds>(cfg.store_linger);
  ropts.defaults.writer.streams = stream_limits{cfg.ds_max_streams, cfg.ds_max_stream_bytes};
  ropts.idle_timeout = cfg.tenant_idle_timeout;
  ropts.on_event = [](std::string_view event, std::string_view tenant,
                      std::string_view detail) {
    bool bad = event == "writer died" || event == "tenant failed to start";
    log::write(bad ? log::level::error : log::level::info, event,
               {{"tenant", log::str(tenant)}, {"detail", log::str(detail)}});
  };
  const bool multi = !cfg.config_file.empty();
  if (multi) {
    tenants_file file;
    if (!load_tenants_file(cfg.config_file, file, err))
      return usage_error(err);
    if (!ensure_data_dir(file.data_dir, err))
      return usage_error(err);
    log_warnings(file);
    ropts.tenants = std::move(file.tenants);
    ropts.admin_keys = std::move(file.admin_keys);
  } else {
    if (cfg.api_key.empty()) {
      cfg.api_key = random_key();
      cfg.dev_key = true;
      std::fprintf(stderr,
                   "\n  API_KEY is not set: generated a DEVELOPMENT key for this run only.\n"
                   "  Use it as:  X-API-Key: %s\n"
                   "  Set API_KEY for anything but local development.\n\n",
                   cfg.api_key.c_str());
    }
    // Single-tenant mode is the same registry with one tenant, opened at start so that
    // an unusable DB_PATH fails now rather than at the first request.
    ropts.tenants.push_back(tenant_spec{"default", cfg.db_path, digest_of(cfg.api_key)});
    ropts.eager = true;
    ropts.multi_tenant = false;
  }
  if (!cfg.ds_anonymous_tenant.empty()
      && std::none_of(ropts.tenants.begin(), ropts.tenants.end(),
                      [&](const tenant_spec& t) { return t.name == cfg.ds_anonymous_tenant; }))
    return usage_error("invalid DS_ANONYMOUS_TENANT=\"" + cfg.ds_anonymous_tenant
                       + "\": no configured tenant has this name"
                       + (multi ? "" : " (single-tenant mode serves \"default\")"));
  std::vector<key_digest> env_admins;
  if (!cfg.admin_api_key.empty())
    env_admins.push_back(digest_of(cfg.admin_api_key));
  ropts.admin_keys.insert(ropts.admin_keys.end(), env_admins.begin(), env_admins.end());
  const auto configured = static_cast<int64_t>(ropts.tenants.size());

  // Signals are taken by one thread with sigwait; every thread started from here on
  // inherits the mask, including the actor system's and the HTTP workers.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  caf::actor_system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  auto registry = tenant_registry::start(sys, std::move(ropts));
  if (!registry) {
    log::write(log::level::error, "cannot open the database",
               {{"db_path", log::str(cfg.db_path)},
                {"detail", log::str(message_of(registry.error()))}});
    return 1;
  }
  http_server server{cfg, *registry, sys};
  int port = server.bind();
  if (port < 0) {
    log::write(log::level::error, "cannot bind",
               {{"host", log::str(cfg.host)}, {"port", log::num(cfg.port)}});
    (*registry)->stop_all();
    return 1;
  }
  // The effective configuration, keys redacted; `port` is the bound one (PORT=0).
  std::vector<log::field> started = {{"version", log::str(EBUSE_VERSION)},
                                     {"port", log::num(port)},
                                     {"mode", log::str(multi ? "multi-tenant" : "single-tenant")},
                                     {"tenants", log::num(configured)}};
  for (auto& f : config_fields(cfg))
    started.push_back(std::move(f));
  log::write(log::level::info, "ebuse started", started);

  shutdown_control shutdown;
  auto reg = *registry;
  std::thread signals{[&server, &cfg, &shutdown, reg, multi, sigs, env_admins] {
    for (;;) {
      int sig = 0;
      if (sigwait(&sigs, &sig) != 0)
        continue;
      if (sig == SIGHUP) {
        if (multi)
          reload(cfg.config_file, *reg, env_admins);
        else
          log::write(log::level::info, "SIGHUP ignored in single-tenant mode");
        continue;
      }
      // In-flight requests get SHUTDOWN_TIMEOUT, then their connections are cut;
      // acknowledged writes are already committed, so nothing acknowledged is lost.
      shutdown.begin(server, cfg.shutdown_timeout, strsignal(sig));
      return;
    }
  }};
  signals.detach();

  bool ok = server.run();
  shutdown.served();
  // Every writer commits what is pending, checkpoints and closes its database.
  reg->stop_all();
  reg.reset();
  registry->reset();
  sys.await_all_actors_done();
  bool forced = shutdown.forced();
  log::write(forced ? log::level::warn : log::level::info, "ebuse stopped",
             {{"clean", forced ? "false" : "true"}});
  log::flush();
  return ok && !forced ? 0 : 1;
}
