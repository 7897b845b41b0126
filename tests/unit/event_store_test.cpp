// Storage: schema, migrations, appends, paged reads, subscriptions, the original's files.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <sqlite3.h>

#include "core/errc.hpp"
#include "storage/event_store.hpp"
#include "support/raw_sql.hpp"
#include "support/store_rows.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using ebuse::test::raw_exec;
using ebuse::test::raw_int;

namespace {

new_event ev(std::string type, std::string data,
             std::string ts = "2024-01-01 00:00:00+00:00") {
  return new_event{std::move(type), std::move(data), std::move(ts)};
}

append_result append(store_writer& w, std::vector<new_event> events) {
  REQUIRE_FALSE(w.begin());
  auto res = test::insert_events(w, events);
  REQUIRE(res);
  REQUIRE_FALSE(w.commit());
  w.set_head(res->last);
  return *res;
}

event_page load(store_reader& r, int64_t from, int64_t to, int64_t limit) {
  event_page page;
  REQUIRE_FALSE(r.load(from, to, limit, page));
  return page;
}

std::string raw_text(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

} // namespace

TEST_CASE("a new database is created 0600 with the schema at the current version") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(raw_int(path, "PRAGMA user_version") == schema_version);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND "
                      "name IN ('events','subscriptions','ds_streams','ds_data','ds_producers')")
        == 5);
  // No secondary index: none of our queries would use one.
  CHECK(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND "
                      "tbl_name='events' AND sql IS NOT NULL")
        == 0);
  // Read, not set: the mode is stored in the file by the writer.
  CHECK(raw_text(path, "PRAGMA journal_mode") == "wal");
  CHECK((*w)->head() == 0);
}

TEST_CASE("appends get dense positions and read back as wire JSON") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  auto r1 = append(**w, {ev("a", "{\"x\":1.10}")});
  CHECK(r1.first == 1);
  CHECK(r1.last == 1);
  auto r2 = append(**w, {ev("b", "[1,2]"), ev("c", "\"s\"", "2024-05-06 07:08:09.5+02:00")});
  CHECK(r2.first == 2);
  CHECK(r2.last == 3);
  CHECK((*w)->head() == 3);
  auto r = store_reader::open(path);
  REQUIRE(r);
  auto all = load(**r, 0, -1, 100);
  CHECK(all.count == 3);
  CHECK(all.last_position == 3);
  CHECK(all.json
        == "{\"position\":1,\"type\":\"a\",\"data\":{\"x\":1.10},\"timestamp\":"
           "\"2024-01-01T00:00:00Z\"},"
           "{\"position\":2,\"type\":\"b\",\"data\":[1,2],\"timestamp\":"
           "\"2024-01-01T00:00:00Z\"},"
           "{\"position\":3,\"type\":\"c\",\"data\":\"s\",\"timestamp\":"
           "\"2024-05-06T07:08:09.5+02:00\"}");
  SECTION("ranges are inclusive and limits apply") {
    auto mid = load(**r, 2, 2, 100);
    CHECK(mid.count == 1);
    CHECK(mid.last_position == 2);
    auto limited = load(**r, 1, -1, 2);
    CHECK(limited.count == 2);
    CHECK(limited.last_position == 2);
    auto empty = load(**r, 4, -1, 10);
    CHECK(empty.count == 0);
    CHECK(empty.json.empty());
  }
  SECTION("max position reads the head") {
    auto head = (*r)->max_position();
    REQUIRE(head);
    CHECK(*head == 3);
  }
}

TEST_CASE("a rolled back batch leaves no trace and no gap") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  append(**w, {ev("a", "1")});
  REQUIRE_FALSE((*w)->begin());
  REQUIRE(test::insert_events(**w, {ev("b", "2"), ev("c", "3")}));
  (*w)->rollback();
  auto next = append(**w, {ev("d", "4")});
  CHECK(next.first == 2);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM events") == 2);
}

TEST_CASE("subscription positions are upserted and listed") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  REQUIRE_FALSE((*w)->begin());
  REQUIRE_FALSE((*w)->save_subscription("s1", 5));
  REQUIRE_FALSE((*w)->save_subscription("été", 7));
  REQUIRE_FALSE((*w)->save_subscription("s1", 9));
  REQUIRE_FALSE((*w)->commit());
  auto r = store_reader::open(path);
  REQUIRE(r);
  auto subs = (*r)->subscriptions();
  REQUIRE(subs);
  std::map<std::string, int64_t> got(subs->begin(), subs->end());
  CHECK(got == std::map<std::string, int64_t>{{"s1", 9}, {"été", 7}});
}

TEST_CASE("a file written by the original opens, keeps its indexes and reads back") {
  test::temp_dir dir;
  auto path = dir.file("orig.db");
  // The original's schema and pragmas, and rows as its two SQLite drivers stored them:
  // mattn's text form and Go's time.String() form (modernc), data with whitespace.
  raw_exec(path, R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE IF NOT EXISTS events (
      position INTEGER PRIMARY KEY AUTOINCREMENT,
      type TEXT NOT NULL, data BLOB NOT NULL, timestamp DATETIME NOT NULL);
    CREATE INDEX IF NOT EXISTS idx_events_type_position ON events(type, position);
    CREATE INDEX IF NOT EXISTS idx_events_timestamp ON events(timestamp);
    CREATE INDEX IF NOT EXISTS idx_events_position_type ON events(position, type)
      WHERE position > 0;
    CREATE TABLE IF NOT EXISTS subscriptions (
      subscription_id TEXT PRIMARY KEY, position INTEGER NOT NULL);
    ANALYZE;
    INSERT INTO events(type, data, timestamp) VALUES
      ('user.created', CAST('{"name": "Ann", "n": 1E+2}' AS BLOB),
       '2024-05-06 07:08:09.123456789+02:00'),
      ('user.updated', CAST('[1, 2]' AS BLOB),
       '2024-05-06 07:08:09.123456789 +0200 CEST'),
      ('zero', CAST('null' AS BLOB), '0001-01-01 00:00:00 +0000 UTC'),
      ('mono', CAST('1' AS BLOB), '2024-01-02 03:04:05.5 +0000 UTC m=+0.000012345');
    INSERT INTO subscriptions VALUES ('projector', 2);
  )sql");
  {
    auto w = store_writer::open(path);
    REQUIRE(w);
    CHECK((*w)->head() == 4);
    auto res = append(**w, {ev("ours", "true")});
    CHECK(res.first == 5);
  }
  CHECK(raw_int(path, "PRAGMA user_version") == schema_version);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM sqlite_master WHERE type='index' AND "
                      "name LIKE 'idx_events_%'")
        == 3);
  auto r = store_reader::open(path);
  REQUIRE(r);
  auto page = load(**r, 1, 4, 10);
  CHECK(page.json
        == "{\"position\":1,\"type\":\"user.created\",\"data\":{\"name\": \"Ann\", \"n\": "
           "1E+2},\"timestamp\":\"2024-05-06T07:08:09.123456789+02:00\"},"
           "{\"position\":2,\"type\":\"user.updated\",\"data\":[1, 2],\"timestamp\":"
           "\"2024-05-06T07:08:09.123456789+02:00\"},"
           "{\"position\":3,\"type\":\"zero\",\"data\":null,\"timestamp\":"
           "\"0001-01-01T00:00:00Z\"},"
           "{\"position\":4,\"type\":\"mono\",\"data\":1,\"timestamp\":"
           "\"2024-01-02T03:04:05.5Z\"}");
  auto subs = (*r)->subscriptions();
  REQUIRE(subs);
  REQUIRE(subs->size() == 1);
  CHECK(subs->front().second == 2);
}

TEST_CASE("a database from a newer schema version is refused") {
  test::temp_dir dir;
  auto path = dir.file("new.db");
  raw_exec(path, "PRAGMA user_version = 99;");
  auto w = store_writer::open(path);
  REQUIRE_FALSE(w);
  CHECK(code_of(w.error()) == errc::storage_unavailable);
}

TEST_CASE("a file that is not a database is reported as unavailable") {
  test::temp_dir dir;
  auto path = dir.file("junk.db");
  {
    FILE* f = std::fopen(path.c_str(), "w");
    REQUIRE(f);
    std::fputs("this is not a sqlite database, just some text long enough......", f);
    std::fclose(f);
  }
  auto w = store_writer::open(path);
  REQUIRE_FALSE(w);
  CHECK(code_of(w.error()) == errc::storage_unavailable);
}

// Opens `path` with another connection, as another process would, and runs `sql` there
// (a transaction left open holds its lock or its read of the WAL).
sqlite3* other_connection(const std::string& path, const char* sql) {
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  return other;
}

TEST_CASE("a lock held by another process makes writes fail busy after the timeout") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  store_options opts;
  opts.busy_timeout_ms = 50;
  auto w = store_writer::open(path, opts);
  REQUIRE(w);
  auto* other = other_connection(path, "BEGIN IMMEDIATE");
  auto err = (*w)->begin();
  CHECK(code_of(err) == errc::storage_busy);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK_FALSE((*w)->begin());
  (*w)->rollback();

  // The final checkpoint waits as long for a reader to leave the WAL, then says so.
  append(**w, {ev("t", "1")});
  CHECK_FALSE((*w)->checkpoint());
  append(**w, {ev("t", "2")});
  other = other_connection(path, "BEGIN; SELECT COUNT(*) FROM events;");
  CHECK(code_of((*w)->checkpoint()) == errc::storage_busy);
  sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK_FALSE((*w)->checkpoint());
}

// Rows go in several per statement (64, 8, 1): every split must keep order, content and
// dense positions, also after a gap that AUTOINCREMENT never reuses.
TEST_CASE("inserts of any size keep order, content and positions", "[store]") {
  test::temp_dir dir;
  auto path = dir.file("rows.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  int64_t expect_next = 1;
  int serial = 0;
  for (int n : {1, 7, 8, 9, 63, 64, 65, 72, 200, 1}) {
    std::vector<new_event> events;
    for (int i = 0; i < n; ++i, ++serial)
      events.push_back(ev("t" + std::to_string(serial), std::to_string(serial)));
    auto res = append(**w, events);
    CHECK(res.first == expect_next);
    CHECK(res.last == expect_next + n - 1);
    expect_next = res.last + 1;
    if (n == 65) {
      // Delete the newest rows: AUTOINCREMENT continues after them, not into them.
      raw_exec(path, "DELETE FROM events WHERE position > (SELECT MAX(position) - 5 FROM events)");
    }
  }
  CHECK(raw_int(path, "SELECT COUNT(*) FROM events") == serial - 5);
  // Each row holds the event sent at its position, in order.
  CHECK(raw_int(path, "SELECT COUNT(*) FROM events WHERE type != 't' || data") == 0);
  CHECK(raw_int(path, "SELECT COUNT(*) FROM events a JOIN events b ON b.position > a.position "
                      "WHERE CAST(b.data AS INTEGER) < CAST(a.data AS INTEGER)")
        == 0);
  CHECK(raw_int(path, "SELECT MAX(position) FROM events") == expect_next - 1);
}
