// ebuse entry point: configuration, actor system, tenant registry, HTTP server, signals.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/registry.hpp"
#include "app/config.hpp"
#include "app/config_log.hpp"
#include "app/fd_limit.hpp"
#include "app/migrate_command.hpp"
#include "app/pg_wakeups.hpp"
#include "app/shutdown.hpp"
#include "app/signals.hpp"
#include "app/startup.hpp"
#include "http/server.hpp"
#include "obs/logger.hpp"
#include "storage/event_store.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_url.hpp"

namespace {

using namespace ebuse;

constexpr int exit_usage = 2;
// PostgreSQL (STORAGE=postgres) cannot be reached or migrated at start.
constexpr int exit_storage = 3;

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "ebuse: %s\n(see ebuse --help)\n", msg.c_str());
  return exit_usage;
}

// The command line; an exit status when the process is done (help, version, misuse).
std::optional<int> parse_args(int argc, char** argv, server_config& cfg) {
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
    if (arg != "-config" && arg != "--config")
      return usage_error("unknown argument: " + arg);
    if (i + 1 >= argc)
      return usage_error(arg + " needs a file name");
    cfg.config_file = argv[++i];
  }
  return std::nullopt;
}

// The effective configuration, keys redacted; `port` is the bound one (PORT=0).
void log_started(const server_config& cfg, int port, const tenancy& plan) {
  auto tenants = static_cast<int64_t>(plan.registry.tenants.size());
  std::vector<log::field> fields = {
    {"version", log::str(EBUSE_VERSION)},
    {"port", log::num(port)},
    {"mode", log::str(plan.multi_tenant ? "multi-tenant" : "single-tenant")},
    {"tenants", log::num(tenants)}};
  for (auto& f : config_fields(cfg))
    fields.push_back(std::move(f));
  log::write(log::level::info, "ebuse started", fields);
}

// Raises the descriptor limit and says what it is: the number of tenants and clients a
// node can hold follows from it. Returns the limit in force.
int64_t log_fd_limit() {
  auto lim = raise_fd_limit();
  if (!lim.error.empty()) {
    log::write(log::level::warn, "cannot raise the descriptor limit",
               {{"soft", log::num(lim.now)}, {"hard", log::num(lim.hard)},
                {"detail", log::str(lim.error)}});
    return lim.now;
  }
  log::write(log::level::info, "descriptor limit",
             {{"soft_before", log::num(lim.before)}, {"soft", log::num(lim.now)},
              {"hard", log::num(lim.hard)}});
  return lim.now;
}

// Sets the descriptor and memory budgets every tenant shares, and says what they are.
void apply_budgets(const server_config& cfg, int64_t descriptors, registry_options& reg) {
  auto derived = open_tenant_budget(descriptors, cfg.reader_connections);
  reg.max_open_tenants = cfg.max_open_tenants > 0 ? cfg.max_open_tenants : derived;
  // Waiting for a place is part of the request: bounded by REQUEST_TIMEOUT, and short
  // enough that the request still gets its answer within the registry's start timeout.
  reg.room_wait = std::min<std::chrono::nanoseconds>(cfg.request_timeout, std::chrono::seconds(10));
  // Writers that can be open at once: fewer than the budget when fewer are configured.
  auto writers = std::min<int64_t>(reg.max_open_tenants,
                                   std::max<std::size_t>(1, reg.tenants.size()));
  // Pooled readers: at most READERS connections of each open tenant are in use at once.
  auto readers = std::min<int64_t>(static_cast<int64_t>(cfg.reader_connections),
                                   writers * static_cast<int64_t>(cfg.readers));
  auto& store = reg.defaults.store;
  store = share_page_cache(store, cfg.page_cache_bytes, writers, readers);
  log::write(log::level::info, "tenant budgets",
             {{"max_open_tenants", log::num(reg.max_open_tenants)},
              {"derived", log::str(cfg.max_open_tenants > 0 ? "false" : "true")},
              {"descriptor_limit", log::num(descriptors)},
              {"page_cache_bytes", log::num(cfg.page_cache_bytes)},
              {"writer_cache_kib", log::num(-static_cast<int64_t>(store.cache_size))},
              {"reader_cache_kib", log::num(-static_cast<int64_t>(store.reader_cache_size))}});
  if (cfg.max_open_tenants > derived)
    log::write(log::level::warn, "MAX_OPEN_TENANTS exceeds what the descriptor limit allows",
               {{"max_open_tenants", log::num(cfg.max_open_tenants)},
                {"allowed", log::num(derived)}});
}

// Serves until SIGINT/SIGTERM (or until serving fails); in-flight requests get
// SHUTDOWN_TIMEOUT, then their connections are cut (acknowledged writes are already
// committed). Then every writer commits what is pending, checkpoints and closes its
// database. Each phase is bounded by `shutdown`. The signal thread lives exactly as
// long as this call: it refers to nothing that ends sooner. False if serving failed.
bool serve(const server_config& cfg, http_server& server, tenant_registry& reg,
           const tenancy& plan, sigset_t sigs, caf::actor_system& sys,
           shutdown_control& shutdown) {
  auto on_hangup = [&] {
    if (plan.multi_tenant)
      reload_tenants_file(cfg.config_file, reg, plan);
    else
      log::write(log::level::info, "SIGHUP ignored in single-tenant mode");
  };
  auto on_stop = [&](const char* name) {
    shutdown.begin(name, [&] { server.stop(); }, [&] { server.cut_connections(); });
  };
  signal_thread signals{sigs, on_hangup, on_stop};
  bool ok = server.run();
  shutdown.served();
  reg.stop_all();
  sys.await_all_actors_done();
  shutdown.finished();
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  // Before any thread exists (the log writer starts with the first line): every thread
  // inherits the mask, so only the signal thread ever takes these signals.
  auto sigs = block_signals();
  if (argc > 1 && std::string(argv[1]) == "migrate")
    return run_migrate_command(argc, argv);
  server_config cfg;
  if (auto status = parse_args(argc, argv, cfg))
    return *status;
  std::string err;
  if (!load_env_config([](const char* name) { return std::getenv(name); }, cfg, err))
    return usage_error(err);
  log::set_level(cfg.log_level);
  for (const auto& c : cfg.clamped)
    log::write(log::level::warn, "setting lowered to its maximum",
               {{"setting", log::str(c.name)}, {"given", log::str(c.given)},
                {"used", log::str(format_duration(max_timeout))}});
  auto descriptors = log_fd_limit();
  tenancy plan;
  if (!plan_tenants(cfg, plan, err))
    return usage_error(err);
  apply_budgets(cfg, descriptors, plan.registry);
  if (plan.storage.storage == "postgres") {
    // PostgreSQL down at start is fatal, with its own status: a supervisor restarts the
    // node, and nothing is served that could not be stored.
    if (auto pg_err = pg::migrate_schema(plan.storage.database_url)) {
      log::write(log::level::error, "cannot use PostgreSQL",
                 {{"database_url", log::str(pg::redact_url(plan.storage.database_url))},
                  {"detail", log::str(message_of(pg_err))}});
      return exit_storage;
    }
  }
  caf::actor_system_config sys_cfg;
  // Tenant writers and readers are cooperative: a sleeping scheduler thread must wake as
  // soon as one has mail (the sharing policy waits on a condition variable) rather than
  // at its next timed poll (work stealing sleeps between polls).
  sys_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{sys_cfg};
  auto registry = tenant_registry::start(sys, plan.registry);
  if (!registry) {
    log::write(log::level::error, "cannot open the database",
               {{"db_path", log::str(cfg.db_path)},
                {"detail", log::str(message_of(registry.error()))}});
    return 1;
  }
  std::unique_ptr<pg_wakeups> wakeups;
  if (plan.storage.storage == "postgres")
    wakeups = std::make_unique<pg_wakeups>(plan.storage.database_url, *registry);
  http_server server{http_options_of(cfg), *registry, sys};
  int port = server.bind();
  if (port < 0) {
    log::write(log::level::error, "cannot bind",
               {{"host", log::str(cfg.host)}, {"port", log::num(cfg.port)}});
    (*registry)->stop_all();
    return 1;
  }
  log_started(cfg, port, plan);
  auto busy = std::chrono::milliseconds(plan.registry.defaults.store.busy_timeout_ms);
  shutdown_control shutdown{
    shutdown_limits::of(cfg.shutdown_timeout, cfg.request_timeout, busy)};
  bool ok = serve(cfg, server, **registry, plan, sigs, sys, shutdown);
  bool forced = shutdown.forced();
  log::write(forced ? log::level::warn : log::level::info, "ebuse stopped",
             {{"clean", forced ? "false" : "true"}});
  log::flush();
  return ok && !forced ? 0 : 1;
}
