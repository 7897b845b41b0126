// HTTP tests for long-polls woken together with byte-identical requests: one rendering
// answers them all, each exactly once, with the bytes its own pass would have written.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
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

// No rate limit: the RateLimit-* headers of each request's admission would make every
// answer different (requests with different headers never share).
ebuse::server_config unlimited() {
  auto cfg = loop_config();
  cfg.rate_limit = 0;
  return cfg;
}

nlohmann::json metrics(httplib::Client& cli) {
  return nlohmann::json::parse(get(cli, "/metrics").body);
}

uint64_t shared_answers(httplib::Client& cli) {
  return metrics(cli)["http"]["connections"]["shared_answers"].get<uint64_t>();
}

// How many of `polls` received, in order, the long-poll's answer with an event of `type`
// and then the answer of the `/position` pipelined behind it.
int answered_in_order(std::vector<std::unique_ptr<raw_socket>>& polls, const std::string& type) {
  int in_order = 0;
  for (auto& s : polls) {
    std::string raw;
    if (!s->read_responses(20s, raw, 2))
      continue;
    auto second = raw.find("HTTP/1.1 ", 1);
    if (count_responses(raw) == 2 && second != std::string::npos
        && raw.substr(0, second).find("\"type\":\"" + type + "\"") != std::string::npos
        && raw.substr(second).find("\"position\":1") != std::string::npos)
      ++in_order;
  }
  return in_order;
}

// How many of `polls` answer a new `GET /position` with exactly one response naming
// `position`: each was answered once and is back in the loop's watch.
int next_request_served(std::vector<std::unique_ptr<raw_socket>>& polls, int position) {
  auto expected = "\"position\":" + std::to_string(position);
  int served = 0;
  for (auto& s : polls) {
    std::string next;
    if (s->send(raw_get("/position")) && s->read_responses(5s, next)
        && count_responses(next) == 1 && next.find(expected) != std::string::npos)
      ++served;
  }
  return served;
}

} // namespace

TEST_CASE("identical woken long-polls share one rendering, answered as their own pass would",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), unlimited()};
  auto cli = srv.client();
  seed(*cli, 1);
  auto request = raw_get("/events?from=2&wait=60s");
  auto polls = send_on_many(srv.port(), 50, request);
  REQUIRE(eventually([&] { return parked_conns(*cli) == 50; }));
  REQUIRE(post_event(*cli, "woken").status == 200);
  std::vector<std::string> answers;
  for (auto& s : polls) {
    std::string raw;
    if (s->read_responses(20s, raw))
      answers.push_back(raw);
  }
  REQUIRE(answers.size() == 50);
  // The same request on a fresh connection, answered at once by a pass of its own.
  raw_socket fresh{srv.port()};
  std::string normal;
  REQUIRE(fresh.send(request));
  REQUIRE(fresh.read_responses(10s, normal));
  CHECK(status_of(normal) == 200);
  CHECK(normal.find("\"type\":\"woken\"") != std::string::npos);
  int same = 0;
  for (const auto& a : answers)
    same += a == normal ? 1 : 0;
  CHECK(same == 50);
  CHECK(shared_answers(*cli) > 0);
  // Each request logged and counted once, shared or not.
  auto m = metrics(*cli);
  CHECK(m["http"]["routes"]["events_get"]["2xx"] == 51);
  auto prom = get(*cli, "/metrics/prometheus").body;
  CHECK(prom.find("ebuse_http_request_duration_seconds_count{route=\"events_get\"} 51")
        != std::string::npos);
  // Answered exactly once: the next response on each connection is its next request's.
  CHECK(next_request_served(polls, 2) == 50);
}

TEST_CASE("requests pipelined behind shared long-poll answers are served after them",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), unlimited()};
  auto cli = srv.client();
  auto polls = send_on_many(srv.port(), 20, raw_get("/events?from=1&wait=60s") + raw_get("/position"));
  REQUIRE(eventually([&] { return parked_conns(*cli) == 20; }));
  REQUIRE(post_event(*cli, "first").status == 200);
  CHECK(answered_in_order(polls, "first") == 20);
  CHECK(shared_answers(*cli) > 0);
}

TEST_CASE("identical long-polls asking to close are each answered and closed",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), unlimited()};
  auto cli = srv.client();
  auto polls = send_on_many(srv.port(), 10, raw_get("/events?from=1&wait=60s", "Connection: close\r\n"));
  REQUIRE(eventually([&] { return parked_conns(*cli) == 10; }));
  REQUIRE(post_event(*cli, "bye").status == 200);
  int closed = 0;
  for (auto& s : polls) {
    bool was_closed = false;
    auto raw = s->read_all(20s, was_closed);
    if (was_closed && count_responses(raw) == 1 && raw.find("Connection: close\r\n") != std::string::npos
        && raw.find("\"type\":\"bye\"") != std::string::npos)
      ++closed;
  }
  CHECK(closed == 10);
  // A response that closes its connection is never written for another one.
  CHECK(shared_answers(*cli) == 0);
}

TEST_CASE("a large burst of identical long-polls is written by two workers, each answered once",
          "[http][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), unlimited()};
  auto cli = srv.client();
  // Enough followers for the writes to be split; each with a request pipelined behind.
  constexpr int n = 200;
  auto polls =
    send_on_many(srv.port(), n, raw_get("/events?from=1&wait=60s") + raw_get("/position"));
  REQUIRE(eventually([&] { return parked_conns(*cli) == n; }));
  REQUIRE(post_event(*cli, "burst").status == 200);
  CHECK(answered_in_order(polls, "burst") == n);
  // Written from a shared rendering (the wake-ups of one commit may reach the loop in
  // more than one batch, each with a rendering of its own).
  CHECK(shared_answers(*cli) > 0);
  // Back in the loop, each connection serves its next request.
  CHECK(next_request_served(polls, 1) == n);
}
