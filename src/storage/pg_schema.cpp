// Schema migrations for PostgreSQL, serialized across nodes by an advisory lock.
#include "storage/pg_schema.hpp"

#include <charconv>

#include "core/errc.hpp"

namespace ebuse::pg {

namespace {

// Key of the advisory lock taken around migrations ("ebus" and 1).
constexpr const char* lock_sql = "SELECT pg_advisory_lock(1700950643)";
constexpr const char* unlock_sql = "SELECT pg_advisory_unlock(1700950643)";

// Every table keys on `tenant` first, so a distributed PostgreSQL (Citus) can shard all
// of them by tenant and keep one tenant's rows together (see docs/ARCHITECTURE.md).
// Key columns use the "C" collation: byte order, as SQLite sorts, whatever the
// database's locale. `data` is text, never jsonb, so it comes back byte for byte as sent;
// `timestamp` holds the stored text form (see ts::format_stored) for the same reason.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE ebuse.heads (
  tenant text COLLATE "C" NOT NULL PRIMARY KEY,
  head bigint NOT NULL DEFAULT 0 CHECK (head >= 0)
);
CREATE TABLE ebuse.events (
  tenant text COLLATE "C" NOT NULL,
  position bigint NOT NULL CHECK (position > 0),
  type text NOT NULL,
  data text NOT NULL,
  "timestamp" text NOT NULL,
  PRIMARY KEY (tenant, position)
);
CREATE TABLE ebuse.subscriptions (
  tenant text COLLATE "C" NOT NULL,
  subscription_id text COLLATE "C" NOT NULL,
  position bigint NOT NULL CHECK (position >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, subscription_id)
);
CREATE TABLE ebuse.idempotency_keys (
  tenant text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  body_sha256 bytea NOT NULL,
  status integer NOT NULL,
  response text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_keys_created_at ON ebuse.idempotency_keys (created_at);
)sql";

// Migration `i` brings the schema from version i to i + 1.
constexpr const char* migrations[] = {schema_v1};
static_assert(sizeof(migrations) / sizeof(migrations[0]) == schema_version);

caf::expected<int> current_version(connection& c) {
  params none;
  auto res = c.query("SELECT version FROM ebuse.schema_version", none, false);
  if (!res)
    return std::move(res.error());
  if (res->rows() == 0)
    return 0;
  auto text = res->get(0, 0);
  int v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

caf::error migrate_locked(connection& c) {
  if (auto err = c.exec("CREATE SCHEMA IF NOT EXISTS ebuse;"
                        "CREATE TABLE IF NOT EXISTS ebuse.schema_version ("
                        " version integer NOT NULL,"
                        " one boolean NOT NULL DEFAULT true PRIMARY KEY CHECK (one))"))
    return err;
  auto version = current_version(c);
  if (!version)
    return std::move(version.error());
  if (*version > schema_version)
    return make_error(errc::storage_unavailable,
                      "PostgreSQL schema ebuse has version " + std::to_string(*version)
                        + ", newer than this build's " + std::to_string(schema_version));
  for (int v = *version; v < schema_version; ++v) {
    std::string step = std::string{"BEGIN;"} + migrations[v]
                       + "INSERT INTO ebuse.schema_version (version) VALUES ("
                       + std::to_string(v + 1)
                       + ") ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version;"
                         "COMMIT;";
    if (auto err = c.exec(step.c_str())) {
      c.exec("ROLLBACK");
      return err;
    }
  }
  return caf::none;
}

} // namespace

caf::error migrate_schema(connection& c) {
  // CREATE ... IF NOT EXISTS alone is not safe when two sessions run it at once (both may
  // insert the catalog row): the lock makes the second node wait and then find it done.
  if (auto err = c.exec(lock_sql))
    return err;
  auto err = migrate_locked(c);
  if (c.ok())
    c.exec(unlock_sql);
  return err;
}

caf::error migrate_schema(const std::string& url, const conn_options& opts) {
  auto c = connection::open(url, opts);
  if (!c)
    return std::move(c.error());
  return migrate_schema(*c);
}

} // namespace ebuse::pg
