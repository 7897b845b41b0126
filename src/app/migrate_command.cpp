#include "app/migrate_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/errc.hpp"
#include "storage/pg_migrate.hpp"
#include "storage/pg_url.hpp"

namespace ebuse {

namespace {

constexpr const char* migrate_usage =
  R"(Usage: ebuse migrate --from FILE.db --to URL --tenant NAME

Copies the events (positions, types, data bytes, timestamps) and subscription positions
of one tenant's SQLite file into PostgreSQL, verbatim, in one transaction. The target
tenant must be empty in PostgreSQL. --to defaults to DATABASE_URL. Prints what was
copied as one JSON line. Going back: GET /events/export from a PostgreSQL node, then
POST /events/import into an empty SQLite tenant.
)";

int misuse(const std::string& msg) {
  std::fprintf(stderr, "ebuse migrate: %s\n%s", msg.c_str(), migrate_usage);
  return 2;
}

} // namespace

int run_migrate_command(int argc, char** argv) {
  std::string from, to, tenant;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(migrate_usage, stdout);
      return 0;
    }
    std::string* slot = arg == "--from" ? &from : arg == "--to" ? &to
                        : arg == "--tenant" ? &tenant : nullptr;
    if (!slot)
      return misuse("unknown argument: " + arg);
    if (i + 1 >= argc || argv[i + 1][0] == '\0')
      return misuse(arg + " needs a value");
    *slot = argv[++i];
  }
  if (to.empty())
    if (const char* env = std::getenv("DATABASE_URL"))
      to = env;
  if (from.empty() || to.empty() || tenant.empty())
    return misuse("--from, --to (or DATABASE_URL) and --tenant are required");
  if (auto valid = pg::validate_database_url(to); !valid)
    return misuse("--to: " + message_of(valid.error()));
  auto report = migrate_tenant(from, to, tenant);
  if (!report) {
    std::fprintf(stderr, "ebuse migrate: %s\n", message_of(report.error()).c_str());
    return 1;
  }
  std::printf("{\"tenant\":\"%s\",\"events\":%lld,\"subscriptions\":%lld,\"head\":%lld}\n",
              tenant.c_str(), static_cast<long long>(report->events),
              static_cast<long long>(report->subscriptions),
              static_cast<long long>(report->head));
  return 0;
}

} // namespace ebuse
