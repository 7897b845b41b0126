// The SQLite schema of a tenant's file and its `user_version` migration chain.
#include "storage/event_schema.hpp"

#include <iterator>

#include "core/errc.hpp"
#include "storage/event_store.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

namespace {

// The original's schema, so that its files open unchanged and ours open in it. Its
// three secondary indexes are not created on new files: no query of ours uses them and
// they halve the insert rate. Existing files keep theirs.
constexpr const char* schema_v1 = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  type TEXT NOT NULL,
  data BLOB NOT NULL,
  timestamp DATETIME NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
  subscription_id TEXT PRIMARY KEY,
  position INTEGER NOT NULL
);
PRAGMA user_version = 1;
COMMIT;
)sql";

// Each step runs in its own transaction that also sets the version it reaches, so an
// interrupted migration resumes at the step that did not finish.
caf::error apply_events_schema(sql::connection& db) {
  if (auto err = db.exec(schema_v1)) {
    db.exec("ROLLBACK");
    return err;
  }
  return caf::none;
}

// Schema version 2, what live consumers need: subscriptions remember when their position
// last changed (unix ms; 0 for positions saved before), and idempotency keys keep the
// response of the append they were first used with (swept after IDEMPOTENCY_TTL by
// their creation time). Every statement is idempotent, so the step also repairs files
// that development builds took to version 3 past an empty step 2.
constexpr const char* schema_v2_tables = R"sql(
CREATE TABLE IF NOT EXISTS idempotency_keys (
  key TEXT PRIMARY KEY,
  body_sha256 BLOB NOT NULL,
  status INTEGER NOT NULL,
  response TEXT NOT NULL,
  created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_ms);
)sql";

constexpr const char* has_updated_at =
  "SELECT COUNT(*) FROM pragma_table_info('subscriptions') WHERE name = 'updated_at'";

// Whether the objects of step 2 are all there.
caf::expected<bool> has_v2_schema(sql::connection& db) {
  auto column = db.query_int64(has_updated_at);
  if (!column)
    return std::move(column.error());
  auto index = db.query_int64("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' "
                              "AND name = 'idempotency_keys_created'");
  if (!index)
    return std::move(index.error());
  return *column == 1 && *index == 1;
}

// Applies step 2 in one transaction and sets the version to `version` (2 in the chain;
// a repaired file keeps its own).
caf::error apply_live_consumers(sql::connection& db, int64_t version) {
  if (auto err = db.exec("BEGIN IMMEDIATE"))
    return err;
  auto fail = [&db](caf::error err) {
    db.exec("ROLLBACK");
    return err;
  };
  // Checked inside the transaction: another process may have added it meanwhile.
  auto column = db.query_int64(has_updated_at);
  if (!column)
    return fail(std::move(column.error()));
  if (*column == 0)
    if (auto err = db.exec("ALTER TABLE subscriptions "
                           "ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0"))
      return fail(std::move(err));
  if (auto err = db.exec(schema_v2_tables))
    return fail(std::move(err));
  auto set_version = "PRAGMA user_version = " + std::to_string(version);
  if (auto err = db.exec(set_version.c_str()))
    return fail(std::move(err));
  if (auto err = db.exec("COMMIT"))
    return fail(std::move(err));
  return caf::none;
}

caf::error apply_v2(sql::connection& db) {
  return apply_live_consumers(db, 2);
}

struct migration_step {
  int64_t to; ///< the version the step reaches
  caf::error (*apply)(sql::connection&);
};

// The migration chain, oldest first.
constexpr migration_step migrations[] = {
  {1, apply_events_schema},
  {2, apply_v2},
  {3, apply_streams_schema},
};
static_assert(migrations[std::size(migrations) - 1].to == schema_version,
              "the last step reaches schema_version");

} // namespace

caf::error migrate_event_store(sql::connection& db) {
  auto version = db.query_int64("PRAGMA user_version");
  if (!version)
    return std::move(version.error());
  if (*version > schema_version)
    return make_error(errc::storage_unavailable,
                      db.path() + " has schema version " + std::to_string(*version)
                        + ", newer than this build's " + std::to_string(schema_version));
  for (const auto& step : migrations) {
    if (*version >= step.to)
      continue;
    if (auto err = step.apply(db))
      return err;
    *version = step.to;
  }
  // Files that development builds took past an empty step 2 get it now.
  auto complete = has_v2_schema(db);
  if (!complete)
    return std::move(complete.error());
  if (!*complete)
    return apply_live_consumers(db, *version);
  return caf::none;
}

} // namespace ebuse
