// expected_position on POST /events and /events/batch (SPEC §11): checked in mailbox order.
#include <atomic>
#include <thread>

#include <catch2/catch.hpp>

#include "support/gated_server.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

int64_t head_of(httplib::Client& cli) {
  auto r = get(cli, "/position");
  REQUIRE(r.status == 200);
  return json::parse(r.body)["position"].get<int64_t>();
}

std::string at(const std::string& path, int64_t expected) {
  return path + "?expected_position=" + std::to_string(expected);
}


} // namespace

TEST_CASE("an append at the expected position is written, one elsewhere gets 409 with the head") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  auto first = post(*cli, at("/events", 0), event_body("a", "1"));
  REQUIRE(first.status == 200);
  CHECK(json::parse(first.body)["position"] == 1);

  auto stale = post(*cli, at("/events", 0), event_body("a", "2"));
  CHECK(stale.status == 409);
  auto body = json::parse(stale.body);
  CHECK(body["code"] == "position_conflict");
  CHECK(body["head"] == 1);
  CHECK(body["error"].is_string());
  CHECK(head_of(*cli) == 1);

  auto batch = post(*cli, at("/events/batch", 1), make_batch(0, 3));
  REQUIRE(batch.status == 200);
  CHECK(json::parse(batch.body)["first_position"] == 2);
  auto stale_batch = post(*cli, at("/events/batch", 1), make_batch(0, 3));
  CHECK(stale_batch.status == 409);
  CHECK(json::parse(stale_batch.body)["head"] == 4);
  auto ahead = post(*cli, at("/events", 99), event_body("a", "3"));
  CHECK(ahead.status == 409);
  CHECK(head_of(*cli) == 4);
  auto events = json::parse(get(*cli, "/events?from=0").body);
  CHECK(events.size() == 4);
}

TEST_CASE("a bad expected_position is refused with 400 and nothing is written") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  for (const char* value : {"abc", "-1", "", "1.5", "1e3", "0x10", "--1", "99999999999999999999",
                            "%201", "1%20"}) {
    INFO(value);
    for (const char* path : {"/events", "/events/batch"}) {
      std::string body = std::string{path} == "/events" ? event_body("a", "1") : make_batch(0, 2);
      auto r = post(*cli, std::string{path} + "?expected_position=" + value, body);
      CHECK(r.status == 400);
      CHECK(json::parse(r.body)["code"] == "invalid_expected_position");
    }
  }
  CHECK(head_of(*cli) == 0);
}

TEST_CASE("two writers racing with the same expected position: exactly one wins each round") {
  temp_dir dir;
  test_server srv{dir.file("t.db"), quiet_config()};
  auto cli = srv.client();
  constexpr int rounds = 30;
  for (int round = 0; round < rounds; ++round) {
    const int64_t head = head_of(*cli);
    std::atomic<int> ready{0};
    reply results[2];
    std::thread writers[2];
    for (int w = 0; w < 2; ++w)
      writers[w] = std::thread{[&, w] {
        auto own = srv.client();
        ready.fetch_add(1);
        while (ready.load() < 2) // both leave together
          std::this_thread::yield();
        results[w] = post(*own, at("/events", head), event_body("w", std::to_string(w)));
      }};
    for (auto& t : writers)
      t.join();
    INFO("round " << round);
    int wins = 0;
    for (auto& r : results) {
      if (r.status == 200) {
        ++wins;
        CHECK(json::parse(r.body)["position"] == head + 1);
      } else {
        REQUIRE(r.status == 409);
        CHECK(json::parse(r.body)["head"] == head + 1);
      }
    }
    REQUIRE(wins == 1);
    REQUIRE(head_of(*cli) == head + 1);
  }
}

TEST_CASE("a conflict inside a group fails only its own append") {
  temp_dir dir;
  auto gate = commit_gate::make();
  auto srv = gated_server(dir.file("t.db"), gate);
  auto cli = srv->client();
  int held_status = 0; // checked on this thread: Catch2's assertions are not thread-safe
  reply results[3];
  const std::string bodies[3] = {make_batch(0, 2), event_body("b", "1"), event_body("c", "2")};
  const std::string paths[3] = {at("/events/batch", 1), at("/events", 1), at("/events", 3)};
  const uint64_t queued_after[3] = {3, 4, 5};
  gated_threads threads{gate};
  // The first append holds the writer, so the next three form one group, in order.
  threads.spawn([&] {
    auto own = srv->client();
    held_status = post(*own, "/events", event_body("held", "0")).status;
  });
  REQUIRE(gate->wait_arrived(1));
  for (int i = 0; i < 3; ++i) {
    threads.spawn([&, i] {
      auto own = srv->client();
      results[i] = post(*own, paths[i], bodies[i]);
    });
    REQUIRE(queued(*srv, queued_after[i])); // in the writer's mailbox before the next
  }
  threads.join();
  CHECK(held_status == 200);
  REQUIRE(gate->sizes().size() >= 2);
  CHECK(gate->sizes()[1] == 3);
  CHECK(results[0].status == 200);
  CHECK(json::parse(results[0].body)["first_position"] == 2);
  CHECK(results[1].status == 409);
  CHECK(json::parse(results[1].body)["head"] == 3);
  CHECK(results[2].status == 200);
  CHECK(json::parse(results[2].body)["position"] == 4);
  auto events = json::parse(get(*cli, "/events?from=0").body);
  REQUIRE(events.size() == 4);
  for (auto& e : events)
    CHECK(e["type"] != "b");
}
