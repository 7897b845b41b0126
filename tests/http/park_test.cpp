// HTTP tests for long-polls parked in the event loop: no worker while they wait, woken
// by a commit, their deadline, their client leaving or shutdown, each answered once.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/park_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

const std::string position_req = raw_get("/position");

int64_t waiting(const test_server& srv) {
  return srv.get_tenant()->stats().events_waiting.load();
}

std::vector<std::unique_ptr<raw_socket>> park_polls(int port, int n, const std::string& path) {
  return send_on_many(port, n, raw_get(path));
}

} // namespace

TEST_CASE("200 parked long-polls hold no worker and are all answered once by one append",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), loop_config()};
  auto cli = srv.client();
  seed(*cli, 1);
  auto polls = park_polls(srv.port(), 200, "/events?from=2&wait=60s");
  REQUIRE(eventually([&] { return parked_conns(*cli) == 200; }));
  CHECK(waiting(srv) == 200);
  // Four workers, two hundred waiting clients: other requests are still served.
  raw_socket other{srv.port()};
  std::string got;
  REQUIRE(other.send(position_req));
  REQUIRE(other.read_responses(5s, got));
  CHECK(status_of(got) == 200);
  CHECK(get(*cli, "/events?from=1").status == 200);
  REQUIRE(post_event(*cli, "woken").status == 200);
  int answered = 0, exactly_once = 0;
  for (auto& s : polls) {
    std::string raw;
    if (!s->read_responses(20s, raw))
      continue;
    ++answered;
    if (status_of(raw) == 200 && raw.find("Ebuse-Head: 2\r\n") != std::string::npos
        && body_of(raw).find("\"position\":2") != std::string::npos) {
      // The next response on the connection is the next request's: nothing came twice.
      std::string next;
      if (s->send(position_req) && s->read_responses(5s, next)
          && count_responses(next) == 1 && next.find("\"position\":2") != std::string::npos)
        ++exactly_once;
    }
  }
  CHECK(answered == 200);
  CHECK(exactly_once == 200);
  CHECK(eventually([&] { return parked_conns(*cli) == 0 && waiting(srv) == 0; }));
}

TEST_CASE("a parked long-poll whose client leaves is dropped", "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), loop_config()};
  auto cli = srv.client();
  auto polls = park_polls(srv.port(), 6, "/events?from=1&wait=60s");
  REQUIRE(eventually([&] { return parked_conns(*cli) == 6; }));
  polls[0]->close();
  polls[1]->reset();
  polls[2]->close();
  CHECK(eventually([&] { return parked_conns(*cli) == 3 && waiting(srv) == 3; }));
  polls.clear();
  CHECK(eventually([&] { return parked_conns(*cli) == 0 && waiting(srv) == 0; }));
  // Nothing is left registered to wake: an append after they left is served as usual.
  CHECK(post_event(*cli, "after").status == 200);
  CHECK(get(*cli, "/events?from=1&wait=5s").body.find("\"position\":1") != std::string::npos);
}

TEST_CASE("a parked long-poll answers [] with Ebuse-Head at its deadline",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), loop_config()};
  auto cli = srv.client();
  seed(*cli, 3);
  REQUIRE(put(*cli, "/subscriptions/s1/position", R"({"position":3})").status == 204);
  raw_socket poll{srv.port()};
  auto start = std::chrono::steady_clock::now();
  REQUIRE(poll.send(raw_get("/subscriptions/s1/events?wait=1s&limit=5")));
  raw_socket poll2{srv.port()};
  REQUIRE(poll2.send(raw_get("/events?from=4&wait=1s")));
  std::string raw, raw2;
  bool seen_parked = eventually([&] { return parked_conns(*cli) == 2; }, 900ms);
  REQUIRE(poll.read_responses(10s, raw));
  REQUIRE(poll2.read_responses(10s, raw2));
  CHECK(std::chrono::steady_clock::now() - start >= 1s);
  CHECK(seen_parked);
  CHECK(status_of(raw) == 200);
  CHECK(body_of(raw) == "[]\n");
  CHECK(raw.find("Ebuse-Head: 3\r\n") != std::string::npos);
  // The rate-limit headers of its admission on the first pass, as a waiting worker's.
  CHECK(raw.find("RateLimit-Remaining: ") != std::string::npos);
  CHECK(status_of(raw2) == 200);
  CHECK(body_of(raw2) == "[]\n");
  CHECK(raw2.find("Ebuse-Head: 3\r\n") != std::string::npos);
}

TEST_CASE("a request pipelined behind a parked long-poll is served after it, in order",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), loop_config()};
  auto cli = srv.client();
  raw_socket s{srv.port()};
  REQUIRE(s.send(raw_get("/events?from=1&wait=60s") + position_req));
  REQUIRE(eventually([&] { return parked_conns(*cli) == 1; }));
  REQUIRE(post_event(*cli, "first").status == 200);
  std::string raw;
  REQUIRE(s.read_responses(10s, raw, 2));
  auto second = raw.find("HTTP/1.1 ", 1);
  REQUIRE(second != std::string::npos);
  CHECK(raw.substr(0, second).find("\"type\":\"first\"") != std::string::npos);
  CHECK(raw.substr(second).find("\"position\":1") != std::string::npos);
  CHECK(count_responses(raw) == 2);
}

TEST_CASE("a filtered parked long-poll parks again when a commit holds other types",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), loop_config()};
  auto cli = srv.client();
  raw_socket s{srv.port()};
  REQUIRE(s.send(raw_get("/events?from=1&type=wanted&wait=60s")));
  REQUIRE(eventually([&] { return parked_conns(*cli) == 1; }));
  REQUIRE(post_event(*cli, "other").status == 200);
  // Woken, read, nothing of its type: parked again (not answered []).
  REQUIRE(eventually([&] { return parked_conns(*cli) == 1 && waiting(srv) == 1; }));
  REQUIRE(post_event(*cli, "wanted").status == 200);
  std::string raw;
  REQUIRE(s.read_responses(10s, raw));
  CHECK(count_responses(raw) == 1);
  CHECK(body_of(raw).find("\"position\":2") != std::string::npos);
  CHECK(body_of(raw).find("\"other\"") == std::string::npos);
  // Parked twice, run three times, counted once.
  auto m = nlohmann::json::parse(get(*cli, "/metrics").body);
  CHECK(m["http"]["routes"]["events_get"]["2xx"] == 1);
}

TEST_CASE("shutdown answers parked long-polls at once", "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), loop_config()};
  auto cli = srv.client();
  seed(*cli, 2);
  auto polls = park_polls(srv.port(), 50, "/events?from=3&wait=60s");
  REQUIRE(eventually([&] { return parked_conns(*cli) == 50; }));
  std::chrono::steady_clock::duration took{};
  int empty = answered_at_stop(srv, polls, [](const std::string& raw) {
    return status_of(raw) == 200 && body_of(raw) == "[]\n"
           && raw.find("Ebuse-Head: 2\r\n") != std::string::npos;
  }, took);
  CHECK(empty == 50);
  CHECK(took < 20s);
}

TEST_CASE("a long-poll parked past READ_TIMEOUT is still answered, and so is the next request",
          "[http][live][park]") {
  temp_dir dir;
  auto cfg = loop_config();
  cfg.read_timeout = 1s;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 1);
  raw_socket s{srv.port()};
  auto start = std::chrono::steady_clock::now();
  REQUIRE(s.send(raw_get("/events?from=2&wait=2s")));
  std::string raw;
  REQUIRE(s.read_responses(10s, raw));
  CHECK(std::chrono::steady_clock::now() - start >= 2s);
  CHECK(status_of(raw) == 200);
  CHECK(body_of(raw) == "[]\n");
  // The connection is still usable: the request deadline of the next one starts afresh.
  std::string next;
  REQUIRE(s.send(position_req));
  REQUIRE(s.read_responses(5s, next));
  CHECK(status_of(next) == 200);
}
