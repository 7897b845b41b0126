// Shutdown of the real binary with a slow final checkpoint: another connection keeps a
// read transaction open, so the writer's last checkpoint waits its whole busy timeout.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <string>

#include <sqlite3.h>

#include "reliability/child_server.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

int64_t count_events(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM events", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  auto n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

} // namespace

TEST_CASE("a slow final checkpoint is waited for, reported, and not cut off",
          "[shutdown]") {
  temp_dir dir;
  const auto db_path = dir.file("events.db");
  child_server srv{{"PORT=0", "HOST=127.0.0.1", "API_KEY=k", "DB_PATH=" + db_path,
                    "RATE_LIMIT=0", "SHUTDOWN_TIMEOUT=1s", "LOG_LEVEL=info"}};
  REQUIRE(srv.port() > 0);
  httplib::Client cli{"127.0.0.1", srv.port()};
  cli.set_default_headers({{"X-API-Key", "k"}});
  auto r = cli.Post("/events/batch", make_batch(1, 100), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);

  // A reader in another program: its open read transaction holds the WAL, which a
  // TRUNCATE checkpoint must wait for (up to the writer's busy timeout, 5 s).
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(reader, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(count_events(reader) == 100);
  r = cli.Post("/events", event_body("last", "1"), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);

  auto start = std::chrono::steady_clock::now();
  srv.signal(SIGTERM);
  int status = srv.wait();
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(reader);

  // Exited as documented: status 0 once every writer is done, after the checkpoint
  // waited for the reader (SHUTDOWN_TIMEOUT is 1 s, the wait 5 s: the last phase has
  // its own bound), never by the backstop.
  CHECK(status == 0);
  CHECK(took >= 4500ms);
  auto out = srv.output();
  INFO(out);
  auto incomplete = out.find("\"msg\":\"final checkpoint incomplete\"");
  auto stopped = out.find("\"msg\":\"ebuse stopped\",\"clean\":true");
  CHECK(incomplete != std::string::npos);
  CHECK(out.find("\"code\":\"storage_busy\"", incomplete) != std::string::npos);
  CHECK(stopped != std::string::npos);
  CHECK(incomplete < stopped);
  CHECK(out.find("did not complete in time") == std::string::npos);

  // Nothing is lost: what the checkpoint could not copy is read from the WAL.
  sqlite3* after = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &after) == SQLITE_OK);
  CHECK(count_events(after) == 101);
  sqlite3_close(after);
}
