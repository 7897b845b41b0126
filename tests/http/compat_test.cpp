// HTTP tests over a database file laid out as the Go original writes it (SPEC §5).
#include <catch2/catch.hpp>

#include <string>

#include <sqlite3.h>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

// Runs `sql` on `db`; fails the test with SQLite's message on error.
void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO("sql: " << sql << " error: " << (err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}

// Writes the original's schema and rows in the text forms its Go drivers store.
void write_original_file(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  exec(db, "PRAGMA journal_mode=WAL;"
           "CREATE TABLE IF NOT EXISTS events ("
           "  position INTEGER PRIMARY KEY AUTOINCREMENT,"
           "  type TEXT NOT NULL, data BLOB NOT NULL, timestamp DATETIME NOT NULL);"
           "CREATE INDEX IF NOT EXISTS idx_events_type ON events(type, position);"
           "CREATE INDEX IF NOT EXISTS idx_events_timestamp ON events(timestamp);"
           "CREATE TABLE IF NOT EXISTS subscriptions ("
           "  subscription_id TEXT PRIMARY KEY, position INTEGER NOT NULL);");
  // mattn form with an offset; modernc (time.String) forms with and without the
  // monotonic suffix; Go's zero time (the original's omitted timestamp); raw data
  // with the client's whitespace, as the original kept it.
  exec(db, "INSERT INTO events(type, data, timestamp) VALUES"
           "('a', CAST('{\"x\":1.10}' AS BLOB), '2024-05-06 07:08:09.123456789+02:00'),"
           "('b', CAST('[1E+2]' AS BLOB), '2024-05-06 07:08:09.123456789 +0200 CEST'),"
           "('c', CAST('\"s\"' AS BLOB), '2024-01-01 00:00:00.5 +0000 UTC m=+0.000000001'),"
           "('d', CAST('null' AS BLOB), '0001-01-01 00:00:00+00:00'),"
           "('e', CAST('{ \"k\" : [ 1 , 2 ] }' AS BLOB), '2023-12-31 23:59:59-05:30'),"
           "('f', CAST('123456789012345678901234567890' AS BLOB),"
           " '2024-02-29 12:00:00.12 -0800 PST');");
  exec(db, "INSERT INTO subscriptions VALUES ('orders', 3), ('\xC3\xA9t\xC3\xA9', 6);");
  REQUIRE(sqlite3_close(db) == SQLITE_OK);
}

} // namespace

TEST_CASE("a database written by the original reads back over HTTP", "[sqlite][http][compat]") {
  temp_dir dir;
  const auto db = dir.file("original.db");
  write_original_file(db);

  test_server srv{db, quiet_config()};
  auto cli = srv.client();
  cli->set_url_encode(false);

  CHECK(get(*cli, "/position").body == "{\"position\":6}\n");
  auto r = get(*cli, "/events?from=1&to=4");
  REQUIRE(r.status == 200);
  CHECK(r.body
        == "[{\"position\":1,\"type\":\"a\",\"data\":{\"x\":1.10},"
           "\"timestamp\":\"2024-05-06T07:08:09.123456789+02:00\"},"
           "{\"position\":2,\"type\":\"b\",\"data\":[1E+2],"
           "\"timestamp\":\"2024-05-06T07:08:09.123456789+02:00\"},"
           "{\"position\":3,\"type\":\"c\",\"data\":\"s\","
           "\"timestamp\":\"2024-01-01T00:00:00.5Z\"},"
           "{\"position\":4,\"type\":\"d\",\"data\":null,"
           "\"timestamp\":\"0001-01-01T00:00:00Z\"}]\n");

  auto rest = parse_array(get(*cli, "/events?from=5").body);
  REQUIRE(rest.size() == 2);
  CHECK(rest[0]["data"] == json::parse(R"({"k":[1,2]})"));
  CHECK(rest[0]["timestamp"] == "2023-12-31T23:59:59-05:30");
  CHECK(rest[1]["timestamp"] == "2024-02-29T12:00:00.12-08:00");
  CHECK(get(*cli, "/events?from=6").body.find("\"data\":123456789012345678901234567890,")
        != std::string::npos);

  // The stream reads the same file.
  auto s = get(*cli, "/events/stream?from=0&batch_size=2");
  REQUIRE(s.status == 200);
  auto all = parse_array(s.body);
  REQUIRE(all.size() == 6);
  CHECK(all[1]["timestamp"] == "2024-05-06T07:08:09.123456789+02:00");

  // Subscription positions of the original are served.
  CHECK(get(*cli, "/subscriptions/orders/position").body == "{\"position\":3}\n");
  CHECK(get(*cli, "/subscriptions/%C3%A9t%C3%A9/position").body == "{\"position\":6}\n");

  // Appends continue after the original's last position.
  r = post(*cli, "/events", R"({"type":"g","data":1,"timestamp":"2024-06-01T00:00:00Z"})");
  REQUIRE(r.status == 200);
  CHECK(r.body == "{\"position\":7,\"type\":\"g\",\"data\":1,"
                  "\"timestamp\":\"2024-06-01T00:00:00Z\"}\n");
  CHECK(get(*cli, "/metrics").body.find("\"total_events\":7") != std::string::npos);
}
