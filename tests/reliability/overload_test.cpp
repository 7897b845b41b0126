// Back-pressure through the HTTP API: a tenant writer's full queue answers
// 503 overloaded with Retry-After, and nothing of the refused request is written.
#include <future>

#include <sqlite3.h>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

TEST_CASE("a full writer queue answers 503 overloaded, nothing written", "[faults][overload]") {
  temp_dir dir;
  auto db = dir.file("queue.db");
  auto cfg = test_server::with_db(quiet_config(), db);
  cfg.writer_queue_events = 3;
  auto ropts = test_server::single_tenant(db, cfg);
  ropts.defaults.store.busy_timeout_ms = 20000;
  test_server srv{std::move(ropts), cfg};
  auto cli = srv.client();
  REQUIRE(post(*cli, "/events", event_body("t", "0")).status == 200);
  // Another process holds the write lock: the next commit waits for it, its events
  // stay queued.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto waiting = std::async(std::launch::async, [&] {
    return post(*srv.client(), "/events/batch", make_batch(2, 3));
  });
  const auto& stats = srv.get_tenant()->stats();
  REQUIRE(eventually([&] { return stats.queued_events.load() == 3; }));
  auto refused = post(*cli, "/events", event_body("refused", "9"));
  check_error(refused, 503, "overloaded");
  CHECK(refused.header("Retry-After") == "1");
  CHECK(refused.body.find("nothing was written") != std::string::npos);
  // The connection stays usable, and reads are not refused.
  CHECK(get(*cli, "/position").body == "{\"position\":1}\n");
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  auto first = waiting.get();
  REQUIRE(first.status == 200);
  CHECK(first.body == batch_reply(2, 4, 3));
  // The refused event was never written: the next append follows the batch.
  auto next = post(*cli, "/events", event_body("after", "10"));
  REQUIRE(next.status == 200);
  CHECK(next.body.rfind("{\"position\":5,", 0) == 0);
  CHECK(stats.overload_refusals.load() == 1);
}
