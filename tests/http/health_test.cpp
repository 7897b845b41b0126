// GET /health: answered from published state (no message to any tenant), and 503 once a
// running tenant's storage fails.
#include <cstdio>
#include <filesystem>

#include <sqlite3.h>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

// Messages the readers of every running tenant have handled.
uint64_t reader_messages(const test_server& srv) {
  uint64_t n = 0;
  for (auto& t : srv.registry()->running())
    n += t->stats().readers.handled.load();
  return n;
}

} // namespace

TEST_CASE("/health costs no message to any tenant", "[http][health]") {
  temp_dir dir;
  auto ropts = tenants_in(dir, {"a", "b", "c", "d"});
  ropts.health_interval = std::chrono::hours(1); // no background probe during the test
  test_server srv{std::move(ropts), quiet_config()};
  for (std::string n : {"a", "b", "c", "d"})
    REQUIRE(post(*client_for(srv, "key-" + n), "/events", event_body("t", "1")).status == 200);
  REQUIRE(srv.registry()->running().size() == 4);
  auto before = reader_messages(srv);
  auto anon = srv.client(false);
  for (int i = 0; i < 25; ++i) {
    auto r = get(*anon, "/health");
    REQUIRE(r.status == 200);
    CHECK(r.body == "{\"status\":\"healthy\"}\n");
  }
  CHECK(reader_messages(srv) == before);
}

TEST_CASE("/health is 503 once a running tenant's file is broken", "[http][health]") {
  temp_dir dir;
  auto ropts = tenants_in(dir, {"good", "bad"});
  ropts.health_interval = 20ms;
  test_server srv{std::move(ropts), quiet_config()};
  auto bad = client_for(srv, "key-bad");
  REQUIRE(post(*client_for(srv, "key-good"), "/events", event_body("t", "1")).status == 200);
  REQUIRE(post(*bad, "/events", event_body("t", "1")).status == 200);
  auto anon = srv.client(false);
  REQUIRE(get(*anon, "/health").status == 200);
  // Everything in the main file, then its header overwritten in place: the file is no
  // longer a database, while the tenant keeps running.
  auto path = dir.file("bad.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    // A health probe's read may be under way: TRUNCATE waits for it (through the busy
    // handler) instead of leaving the pages, the header among them, in the WAL.
    sqlite3_busy_timeout(db, 5000);
    REQUIRE(sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr)
            == SQLITE_OK);
    sqlite3_close(db);
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    REQUIRE(f);
    std::string garbage(100, 'x');
    REQUIRE(std::fwrite(garbage.data(), 1, garbage.size(), f) == garbage.size());
    std::fclose(f);
  }
  reply r;
  REQUIRE(eventually([&] {
    r = get(*anon, "/health");
    return r.status == 503;
  }));
  CHECK(r.body
        == "{\"code\":\"storage_unavailable\",\"error\":\"storage is unavailable\","
           "\"status\":\"unhealthy\"}\n");
  CHECK(srv.registry()->unhealthy() == 1);
}
