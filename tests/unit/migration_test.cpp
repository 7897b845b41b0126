// Schema migrations: 1 → 2 → 3 keeping rows, step 2 repaired on development files already
// at version 3, and reopening changes nothing.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "storage/event_store.hpp"
#include "support/raw_sql.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

// Every schema object's definition, in a stable order.
std::string schema_text(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT name || ':' || IFNULL(sql, '') FROM sqlite_master "
                                 "ORDER BY name", -1, &st, nullptr) == SQLITE_OK);
  std::string text;
  while (sqlite3_step(st) == SQLITE_ROW)
    text += reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) + std::string{"\n"};
  sqlite3_finalize(st);
  sqlite3_close(db);
  return text;
}

// What step 2 creates.
void check_v2_objects(const std::string& path) {
  CHECK(raw_int(path, "SELECT COUNT(*) FROM pragma_table_info('subscriptions') "
                      "WHERE name = 'updated_at'") == 1);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM pragma_table_info('idempotency_keys') "
                      "WHERE name IN ('key','body_sha256','status','response','created_ms')")
        == 5);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND "
                      "name = 'idempotency_keys_created' AND tbl_name = 'idempotency_keys'")
        == 1);
}

} // namespace

TEST_CASE("a version 1 file migrates through 2 and 3, keeping its rows", "[migration]") {
  test::temp_dir dir;
  auto path = dir.file("v1.db");
  raw_exec(path, R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT,
      type TEXT NOT NULL, data BLOB NOT NULL, timestamp DATETIME NOT NULL);
    CREATE TABLE subscriptions (subscription_id TEXT PRIMARY KEY, position INTEGER NOT NULL);
    INSERT INTO events(type, data, timestamp) VALUES ('a', '1', '2024-01-01 00:00:00+00:00');
    INSERT INTO subscriptions VALUES ('old', 1);
    PRAGMA user_version = 1;
  )sql");
  {
    auto w = store_writer::open(path);
    REQUIRE(w);
    CHECK((*w)->head() == 1);
    REQUIRE_FALSE((*w)->save_subscription("new", 1));
  }
  CHECK(raw_int(path, "PRAGMA user_version") == schema_version);
  check_v2_objects(path);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM ds_streams") == 0);
  // Positions saved before the migration have no time of change; new saves do.
  CHECK(raw_int(path, "SELECT updated_at FROM subscriptions WHERE subscription_id = 'old'")
        == 0);
  CHECK(raw_int(path, "SELECT updated_at FROM subscriptions WHERE subscription_id = 'new'")
        > 1700000000000);
  CHECK(raw_int(path, "SELECT position FROM subscriptions WHERE subscription_id = 'old'") == 1);
}

TEST_CASE("a development file at version 3 without step 2 gets it, staying at 3",
          "[migration]") {
  test::temp_dir dir;
  auto path = dir.file("dev.db");
  { REQUIRE(store_writer::open(path)); }
  // As a development build left it: version 3, but step 2 was empty.
  raw_exec(path, R"sql(
    DROP INDEX idempotency_keys_created;
    DROP TABLE idempotency_keys;
    ALTER TABLE subscriptions DROP COLUMN updated_at;
    INSERT INTO subscriptions VALUES ('kept', 7);
  )sql");
  CHECK(raw_int(path, "PRAGMA user_version") == 3);
  { REQUIRE(store_writer::open(path)); }
  CHECK(raw_int(path, "PRAGMA user_version") == 3);
  check_v2_objects(path);
  CHECK(raw_int(path, "SELECT position FROM subscriptions WHERE subscription_id = 'kept'") == 7);
}

TEST_CASE("opening a migrated file again changes nothing", "[migration]") {
  test::temp_dir dir;
  auto path = dir.file("again.db");
  { REQUIRE(store_writer::open(path)); }
  auto before = schema_text(path);
  { REQUIRE(store_writer::open(path)); }
  { REQUIRE(store_reader::open(path)); }
  CHECK(schema_text(path) == before);
  check_v2_objects(path);
}
