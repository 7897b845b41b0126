// Idempotency-Key on POST /events and /events/batch (SPEC §11): replays, reuse, expiry.
#include <thread>

#include <catch2/catch.hpp>

#include "support/gated_server.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_sql.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

httplib::Headers with_key(const std::string& key) {
  return {{"Idempotency-Key", key}};
}

int64_t head_of(httplib::Client& cli) {
  auto r = get(cli, "/position");
  REQUIRE(r.status == 200);
  return json::parse(r.body)["position"].get<int64_t>();
}


} // namespace

TEST_CASE("a repeat with the same key and body gets the first response and writes nothing") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  // No timestamp: the server sets it, and the replay must show the first one.
  auto body = event_body("order", "{\"n\":1}");
  auto first = post(*cli, "/events", body, with_key("order-1"));
  REQUIRE(first.status == 200);
  CHECK_FALSE(first.has_header("Idempotent-Replayed"));
  auto again = post(*cli, "/events", body, with_key("order-1"));
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  CHECK(again.header("Idempotent-Replayed") == "true");
  CHECK(again.header("Content-Type") == "application/json");
  CHECK(head_of(*cli) == 1);

  auto batch = make_batch(0, 5);
  auto b1 = post(*cli, "/events/batch", batch, with_key("batch-1"));
  REQUIRE(b1.status == 200);
  auto b2 = post(*cli, "/events/batch", batch, with_key("batch-1"));
  CHECK(b2.status == 200);
  CHECK(b2.body == b1.body);
  CHECK(b2.header("Idempotent-Replayed") == "true");
  CHECK(head_of(*cli) == 6);
  // A key is one per tenant across both routes: the batch's key with another body.
  auto crossed = post(*cli, "/events", body, with_key("batch-1"));
  CHECK(crossed.status == 422);
  CHECK(json::parse(crossed.body)["code"] == "idempotency_key_reuse");
  CHECK(head_of(*cli) == 6);
}

TEST_CASE("the same key with another body is refused with 422 and nothing is written") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  REQUIRE(post(*cli, "/events", event_body("a", "1"), with_key("k")).status == 200);
  auto other = post(*cli, "/events", event_body("a", "2"), with_key("k"));
  CHECK(other.status == 422);
  auto body = json::parse(other.body);
  CHECK(body["code"] == "idempotency_key_reuse");
  CHECK(body["error"].is_string());
  CHECK(head_of(*cli) == 1);
}

TEST_CASE("a bad Idempotency-Key is refused with 400 and nothing is written") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  for (const std::string& key : {std::string(256, 'k'), std::string{"a b"},
                                 std::string{"caf\xc3\xa9"}, std::string{"a\x01z"}}) {
    INFO(key);
    auto r = post(*cli, "/events", event_body("a", "1"), with_key(key));
    CHECK(r.status == 400);
    CHECK(json::parse(r.body)["code"] == "invalid_idempotency_key");
    auto b = post(*cli, "/events/batch", make_batch(0, 2), with_key(key));
    CHECK(b.status == 400);
  }
  CHECK(post(*cli, "/events", event_body("a", "1"), with_key(std::string(255, '~'))).status
        == 200);
  CHECK(head_of(*cli) == 1);
}

TEST_CASE("a replay answers the stored response even after the head moved past expected_position") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  auto body = event_body("a", "1");
  auto first = post(*cli, "/events?expected_position=0", body, with_key("once"));
  REQUIRE(first.status == 200);
  REQUIRE(post(*cli, "/events", event_body("b", "2")).status == 200);
  auto again = post(*cli, "/events?expected_position=0", body, with_key("once"));
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  CHECK(again.header("Idempotent-Replayed") == "true");
  // A conflict stores nothing: the key stays free for the request that succeeds.
  auto conflict = post(*cli, "/events?expected_position=0", body, with_key("later"));
  CHECK(conflict.status == 409);
  auto retry = post(*cli, "/events?expected_position=2", body, with_key("later"));
  CHECK(retry.status == 200);
  CHECK_FALSE(retry.has_header("Idempotent-Replayed"));
  CHECK(head_of(*cli) == 3);
}

TEST_CASE("a repeat in flight with the first, in the same group or the next, is a replay") {
  temp_dir dir;
  auto gate = commit_gate::make();
  auto srv = gated_server(dir.file("t.db"), gate);
  auto body = event_body("x", "{\"v\":1}");
  int held_status = 0; // checked on this thread: Catch2's assertions are not thread-safe
  reply results[2];
  gated_threads threads{gate};
  // Group 1 holds a plain append; the keyed request and its repeat wait behind it and
  // form group 2 together.
  threads.spawn([&] {
    auto own = srv->client();
    held_status = post(*own, "/events", event_body("held", "0")).status;
  });
  REQUIRE(gate->wait_arrived(1));
  for (int i = 0; i < 2; ++i) {
    threads.spawn([&, i] {
      auto own = srv->client();
      results[i] = post(*own, "/events", body, with_key("inflight"));
    });
    REQUIRE(queued(*srv, 2 + static_cast<uint64_t>(i)));
  }
  threads.join();
  CHECK(held_status == 200);
  REQUIRE(gate->sizes().size() >= 2);
  CHECK(gate->sizes()[1] == 2);
  REQUIRE(results[0].status == 200);
  CHECK_FALSE(results[0].has_header("Idempotent-Replayed"));
  CHECK(results[1].status == 200);
  CHECK(results[1].body == results[0].body);
  CHECK(results[1].header("Idempotent-Replayed") == "true");
  auto cli = srv->client();
  CHECK(head_of(*cli) == 2);
}

TEST_CASE("a repeat arriving while the first is being committed is a replay from the next group") {
  temp_dir dir;
  auto gate = commit_gate::make();
  auto srv = gated_server(dir.file("t.db"), gate);
  auto body = make_batch(0, 3);
  reply first, second;
  gated_threads threads{gate};
  threads.spawn([&] {
    auto own = srv->client();
    first = post(*own, "/events/batch", body, with_key("retry"));
  });
  REQUIRE(gate->wait_arrived(1)); // the first is in a group that has not committed
  threads.spawn([&] {
    auto own = srv->client();
    second = post(*own, "/events/batch", body, with_key("retry"));
  });
  REQUIRE(queued(*srv, 6));
  threads.join();
  CHECK(gate->sizes() == std::vector<std::size_t>{1, 1});
  REQUIRE(first.status == 200);
  CHECK(second.status == 200);
  CHECK(second.body == first.body);
  CHECK(second.header("Idempotent-Replayed") == "true");
  auto cli = srv->client();
  CHECK(head_of(*cli) == 3);
}

// [sqlite]: reads the key table of the SQLite file; the PostgreSQL sweep is tested in
// tests/pg/pg_store_test.cpp.
TEST_CASE("keys past IDEMPOTENCY_TTL are swept, and a key after expiry is applied anew",
          "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("t.db");
  auto cfg = quiet_config();
  cfg.idempotency_ttl = std::chrono::seconds(1);
  test_server srv{path, cfg};
  auto cli = srv.client();
  auto body = event_body("a", "1");
  auto first = post(*cli, "/events", body, with_key("short"));
  REQUIRE(first.status == 200);
  REQUIRE(post(*cli, "/events", body, with_key("swept")).status == 200);
  // Stored with the events, in the same transaction: there once the append is answered.
  REQUIRE(raw_int(path, "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'swept'") == 1);
  // Until the key expires a repeat is a replay; after, it is a new append.
  reply anew;
  REQUIRE(eventually(
    [&] {
      anew = post(*cli, "/events", body, with_key("short"));
      return anew.status == 200 && !anew.has_header("Idempotent-Replayed");
    },
    std::chrono::seconds(10)));
  CHECK(json::parse(anew.body)["position"] == 3);
  CHECK(head_of(*cli) == 3);
  // The sweep deletes the expired key nobody used again.
  CHECK(eventually(
    [&] { return raw_int(path, "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'swept'") == 0; },
    std::chrono::seconds(10)));
}

TEST_CASE("a key stores a compact response, and rows stored in full still replay as stored",
          "[sqlite]") {
  temp_dir dir;
  auto path = dir.file("t.db");
  {
    test_server srv{path, quiet_config()};
    auto cli = srv.client();
    // A type and data that need escaping, no timestamp: the replay after a restart is
    // rebuilt from the positions and timestamp stored and the request's own body.
    auto body = event_body("caf\xc3\xa9 \\\"x\\\"", "{\"s\":\"\\u00e9\\n\",\"n\":[1,2]}");
    auto first = post(*cli, "/events", body, with_key("one"));
    REQUIRE(first.status == 200);
    auto batch = make_batch(0, 3);
    auto b1 = post(*cli, "/events/batch", batch, with_key("three"));
    REQUIRE(b1.status == 200);
    srv.stop();
    // The row holds the positions (and the single event's timestamp), not the body.
    CHECK(raw_int(path, "SELECT COUNT(*) FROM idempotency_keys WHERE key = 'three' "
                        "AND response = '=2 4'")
          == 1);
    CHECK(raw_int(path, "SELECT length(response) < 48 FROM idempotency_keys "
                        "WHERE key = 'one'")
          == 1);
    // A row as earlier versions stored it: the whole body, replayed verbatim.
    raw_exec(path, "UPDATE idempotency_keys SET response = '{\"kept\":true}\n' "
                   "WHERE key = 'three'");
    test_server again{path, quiet_config()};
    auto cli2 = again.client();
    auto r1 = post(*cli2, "/events", body, with_key("one"));
    CHECK(r1.status == 200);
    CHECK(r1.header("Idempotent-Replayed") == "true");
    CHECK(r1.body == first.body);
    auto r3 = post(*cli2, "/events/batch", batch, with_key("three"));
    CHECK(r3.status == 200);
    CHECK(r3.body == "{\"kept\":true}\n");
    CHECK(head_of(*cli2) == 4);
  }
}
