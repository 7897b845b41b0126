// HTTP tests for long-poll GET /events?wait= and the Ebuse-Head header.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

// Long-polls and followers parked on the tenant's event log now.
int64_t parked(const test_server& srv) {
  return srv.get_tenant()->stats().events_waiting.load();
}

// A GET on its own connection and thread, for a request that waits.
struct background_get {
  reply result;
  std::thread thread;

  background_get(const test_server& srv, std::string path) {
    thread = std::thread{[this, &srv, path] {
      auto cli = srv.client();
      result = get(*cli, path);
    }};
  }
  ~background_get() {
    if (thread.joinable())
      thread.join();
  }
  const reply& join() {
    thread.join();
    return result;
  }
};

} // namespace

TEST_CASE("every GET /events and /events/stream response carries Ebuse-Head", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  CHECK(get(*cli, "/events?from=0").header("Ebuse-Head") == "0");
  CHECK(get(*cli, "/events/stream?from=0").header("Ebuse-Head") == "0");
  seed(*cli, 1500);
  for (const char* path : {"/events?from=1", "/events?from=2000", "/events?from=5&to=4",
                           "/events?from=1&to=3", "/events?from=1&to=5000",
                           "/events/stream?from=0", "/events/stream?from=9999"}) {
    INFO(path);
    auto r = get(*cli, path);
    CHECK(r.status == 200);
    CHECK(r.header("Ebuse-Head") == "1500");
  }
}

TEST_CASE("a bad wait is refused with 400", "[http][live]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.longpoll_max = std::chrono::seconds(5);
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  for (const char* path : {"/events?from=1&wait=", "/events?from=1&wait=abc",
                           "/events?from=1&wait=-1s", "/events?from=1&wait=-5",
                           "/events?from=1&wait=6", "/events?from=1&wait=5001ms",
                           "/events?from=1&wait=1m", "/events?from=1&wait=5x",
                           "/events?from=1&wait=99999999999999999999",
                           "/events?from=1&to=5&wait=1h"}) {
    INFO(path);
    check_error(get(*cli, path), 400, "invalid_parameter");
  }
  CHECK(parked(srv) == 0);
  // Within the maximum, with events there: answered at once.
  seed(*cli, 3);
  for (const char* path : {"/events?from=1&wait=5", "/events?from=1&wait=5s",
                           "/events?from=1&wait=1.5s", "/events?from=1&wait=0"}) {
    INFO(path);
    auto r = get(*cli, path);
    CHECK(r.status == 200);
    CHECK(parse_array(r.body).size() == 3);
  }
}

TEST_CASE("a long-poll is answered by the commit of another client", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 5);
  background_get poll{srv, "/events?from=6&wait=50s"};
  REQUIRE(eventually([&] { return parked(srv) == 1; }));
  CHECK(json::parse(get(*cli, "/metrics").body)["readers"]["waiting"] == 1);
  auto start = std::chrono::steady_clock::now();
  REQUIRE(post(*cli, "/events/batch", make_batch(6, 2)).status == 200);
  auto& r = poll.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  REQUIRE(r.status == 200);
  CHECK(r.body == "[" + expected_batch_event(6, 6) + "," + expected_batch_event(7, 7) + "]\n");
  CHECK(r.header("Ebuse-Head") == "7");
  CHECK(parked(srv) == 0);
}

TEST_CASE("a long-poll with to answers only its range", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 5);
  // `to` below the head: answered at once, as without wait.
  auto r = get(*cli, "/events?from=2&to=3&wait=50s");
  CHECK(r.body == "[" + expected_batch_event(2, 2) + "," + expected_batch_event(3, 3) + "]\n");
  CHECK(r.header("Ebuse-Head") == "5");
  // An empty range can never fill: no waiting.
  r = get(*cli, "/events?from=6&to=5&wait=50s");
  CHECK(r.body == "[]\n");

  background_get small{srv, "/events?from=6&to=7&wait=50s"};
  // A range of more than a page is streamed once something is there.
  background_get large{srv, "/events?from=7&to=100000&wait=50s"};
  REQUIRE(eventually([&] { return parked(srv) == 2; }));
  REQUIRE(post(*cli, "/events/batch", make_batch(6, 3)).status == 200);
  auto& s = small.join();
  CHECK(s.body == "[" + expected_batch_event(6, 6) + "," + expected_batch_event(7, 7) + "]\n");
  CHECK(s.header("Ebuse-Head") == "8");
  auto& l = large.join();
  CHECK(l.body == "[" + expected_batch_event(7, 7) + "," + expected_batch_event(8, 8) + "]\n");
  CHECK(l.header("Ebuse-Head") == "8");
}

TEST_CASE("a long-poll answers [] when its wait elapses", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 2);
  auto start = std::chrono::steady_clock::now();
  auto r = get(*cli, "/events?from=3&wait=300ms");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));
  REQUIRE(r.status == 200);
  CHECK(r.body == "[]\n");
  CHECK(r.header("Ebuse-Head") == "2");
  r = get(*cli, "/events?from=3&to=5000&wait=100ms");
  CHECK(r.body == "[]\n");
}

TEST_CASE("shutdown answers waiting long-polls at once", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  std::vector<std::unique_ptr<background_get>> polls;
  for (int i = 0; i < 8; ++i)
    polls.push_back(std::make_unique<background_get>(srv, "/events?from=1&wait=60s"));
  REQUIRE(eventually([&] { return parked(srv) == 8; }));
  auto start = std::chrono::steady_clock::now();
  srv.stop();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
  for (auto& p : polls) {
    auto& r = p->join();
    CHECK(r.status == 200);
    CHECK(r.body == "[]\n");
  }
}
