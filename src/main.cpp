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
  http_server server{cfg, dir};
  int port = server.bind();
  if (port < 0) {
    log::write(log::level::error, "cannot bind",
               {{"host", log::str(cfg.host)}, {"port", log::num(cfg.port)}});
    (*t)->stop();
    return 1;
  }
  log::write(log::level::info, "ebuse started",
             {{"version", log::str(EBUSE_VERSION)},
              {"host", log::str(cfg.host)},
              {"port", log::num(port)},
              {"mode", log::str("single-tenant")},
              {"db_path", log::str(cfg.db_path)},
              {"api_key", log::str(cfg.dev_key ? "generated (development)" : "set")},
              {"http_threads", log::num(cfg.http_threads)},
              {"readers", log::num(static_cast<int64_t>(cfg.readers))},
              {"max_body_bytes", log::num(static_cast<int64_t>(cfg.max_body_bytes))},
              {"enable_gzip", cfg.enable_gzip ? "true" : "false"},
              {"wal_autocheckpoint", log::num(cfg.wal_autocheckpoint)}});

  std::thread signals{[&server, &cfg, sigs] {
    for (;;) {
      int sig = 0;
      if (sigwait(&sigs, &sig) != 0)
        continue;
      if (sig == SIGHUP) {
        log::write(log::level::info, "SIGHUP ignored in single-tenant mode");
        continue;
      }
      log::write(log::level::info, "shutting down", {{"signal", log::str(strsignal(sig))}});
      server.stop();
      // In-flight requests get SHUTDOWN_TIMEOUT; acknowledged writes are already
      // committed, so a forced exit after it loses nothing that was acknowledged.
      auto limit = cfg.shutdown_timeout;
      std::thread{[limit] {
        std::this_thread::sleep_for(limit);
        log::write(log::level::error, "shutdown timed out; exiting");
        std::_Exit(1);
      }}.detach();
      return;
    }
  }};
  signals.detach();

  bool ok = server.run();
  (*t)->stop();
  t->reset();
  log::write(log::level::info, "ebuse stopped");
  return ok ? 0 : 1;
}
