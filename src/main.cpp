// ebuse entry point: configuration, actor system, tenants, HTTP server, signals.
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

#include "actors/tenant.hpp"
#include "http/config.hpp"
#include "http/config_log.hpp"
#include "http/lifecycle.hpp"
#include "http/logger.hpp"
#include "http/server.hpp"

namespace {

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

} // namespace

int main(int argc, char** argv) {
  using namespace ebuse;
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
  if (!cfg.config_file.empty())
    return usage_error("multi-tenant mode (-config) is not available in this build yet");
  log::set_level(cfg.log_level);
  if (cfg.api_key.empty()) {
    cfg.api_key = random_key();
    cfg.dev_key = true;
    std::fprintf(stderr,
                 "\n  API_KEY is not set: generated a DEVELOPMENT key for this run only.\n"
                 "  Use it as:  X-API-Key: %s\n"
                 "  Set API_KEY for anything but local development.\n\n",
                 cfg.api_key.c_str());
  }

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
  tenant_options topts;
  topts.name = "default";
  topts.db_path = cfg.db_path;
  topts.readers = cfg.readers;
  topts.store.wal_autocheckpoint = cfg.wal_autocheckpoint;
  auto t = tenant::start(sys, topts);
  if (!t) {
    log::write(log::level::error, "cannot open the database",
               {{"db_path", log::str(cfg.db_path)},
                {"detail", log::str(message_of(t.error()))}});
    return 1;
  }
  auto dir = std::make_shared<single_tenant_directory>(cfg.api_key, *t);
  http_server server{cfg, dir, sys};
  int port = server.bind();
  if (port < 0) {
    log::write(log::level::error, "cannot bind",
               {{"host", log::str(cfg.host)}, {"port", log::num(cfg.port)}});
    (*t)->stop();
    return 1;
  }
  // The effective configuration, keys redacted; `port` is the bound one (PORT=0).
  std::vector<log::field> started = {{"version", log::str(EBUSE_VERSION)},
                                     {"port", log::num(port)},
                                     {"mode", log::str("single-tenant")}};
  for (auto& f : config_fields(cfg))
    started.push_back(std::move(f));
  log::write(log::level::info, "ebuse started", started);

  shutdown_control shutdown;
  std::thread signals{[&server, &cfg, &shutdown, sigs] {
    for (;;) {
      int sig = 0;
      if (sigwait(&sigs, &sig) != 0)
        continue;
      if (sig == SIGHUP) {
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
  // The writer commits what is pending, checkpoints and closes the database.
  (*t)->stop();
  t->reset();
  sys.await_all_actors_done();
  bool forced = shutdown.forced();
  log::write(forced ? log::level::warn : log::level::info, "ebuse stopped",
             {{"clean", forced ? "false" : "true"}});
  log::flush();
  return ok && !forced ? 0 : 1;
}
