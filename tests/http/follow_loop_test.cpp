// HTTP tests of followers that go on in the event loop: caught up, they hold no worker;
// their pages, heartbeats and last chunk are written by the loop in the library's
// framing; slow ones are closed after WRITE_TIMEOUT without holding anyone up.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/chunked_followers.hpp"
#include "support/eventually.hpp"
#include "support/park_helpers.hpp"
#include "support/process_status.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

std::string sse_events(int64_t first, int64_t last) {
  std::string out;
  for (int64_t i = first; i <= last; ++i)
    out += "id: " + std::to_string(i) + "\ndata: " + expected_batch_event(i, i) + "\n\n";
  return out;
}

std::string ndjson_events(int64_t first, int64_t last) {
  std::string out;
  for (int64_t i = first; i <= last; ++i)
    out += expected_batch_event(i, i) + "\n";
  return out;
}

std::string follow_request(const std::string& accept, const std::string& query = "from=1",
                           const std::string& extra = "") {
  return raw_get("/events/stream?follow=true&" + query, "Accept: " + accept + "\r\n" + extra);
}

// One figure of /metrics' "http.connections" (-1 if it did not answer).
int64_t conn_figure(httplib::Client& cli, const char* name) {
  auto r = get(cli, "/metrics");
  if (r.status != 200)
    return -1;
  return nlohmann::json::parse(r.body)["http"]["connections"][name].get<int64_t>();
}

// A body that is exactly `want` so far (a longer or different body fails at once).
auto body_is(const std::string& want) {
  return [want](const chunked_response& r) {
    return r.bad || r.closed || r.body.size() >= want.size();
  };
}

void check_bodies(chunked_followers& f, const std::string& want) {
  for (std::size_t i = 0; i < f.size(); ++i) {
    INFO("follower " << i);
    CHECK_FALSE(f[i].bad);
    CHECK(f[i].body == want);
  }
}

} // namespace

TEST_CASE("100 caught-up SSE followers hold none of 4 workers and get every event once",
          "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(4);
  cfg.heartbeat = 10min;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 2);
  REQUIRE(get(*cli, "/position").status == 200);
  int threads_before = process_threads();
  chunked_followers f{srv.port(), 100, follow_request("text/event-stream")};
  REQUIRE(f.read_until(body_is(sse_events(1, 2)), 20s));
  check_bodies(f, sse_events(1, 2));
  REQUIRE(eventually([&] { return conn_figure(*cli, "following") == 100; }));
  CHECK(conn_figure(*cli, "in_worker") <= 1); // the /metrics request itself
  // The library logged each follow when its provider handed the response to the loop.
  auto m = nlohmann::json::parse(get(*cli, "/metrics").body);
  CHECK(m["http"]["routes"]["events_stream"]["2xx"] == 100);
  // Other requests are answered at once: no worker is taken by a follower.
  auto quick = srv.client();
  quick->set_read_timeout(5);
  CHECK(get(*quick, "/position").status == 200);
  CHECK(process_threads() <= threads_before + 1);
  // A few appends: each follower gets each event once, in order, in chunked framing.
  REQUIRE(post(*cli, "/events/batch", make_batch(3, 5)).status == 200);
  REQUIRE(post(*cli, "/events/batch", make_batch(8, 1)).status == 200);
  REQUIRE(post(*cli, "/events/batch", make_batch(9, 4)).status == 200);
  REQUIRE(f.read_until(body_is(sse_events(1, 12)), 20s));
  check_bodies(f, sse_events(1, 12));
  CHECK(eventually([&] { return conn_figure(*cli, "following") == 100; }));
}

TEST_CASE("NDJSON followers in the loop resume with Last-Event-ID and filter by type",
          "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(4);
  cfg.heartbeat = 10min;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 10);
  chunked_followers f{srv.port(), 20,
                      follow_request("application/x-ndjson", "from=1&type=t2,t3",
                                     "Last-Event-ID: 3\r\n")};
  REQUIRE(f.read_until(body_is(ndjson_events(9, 10)), 20s));
  REQUIRE(eventually([&] { return conn_figure(*cli, "following") == 20; }));
  // Events of other types wake them; they park again without writing.
  REQUIRE(post(*cli, "/events/batch", make_batch(11, 4)).status == 200); // t4..t0
  REQUIRE(post(*cli, "/events/batch", make_batch(15, 3)).status == 200); // t1, t2 at 16, t3
  auto want = ndjson_events(9, 10) + ndjson_events(16, 17);
  REQUIRE(f.read_until(body_is(want), 20s));
  check_bodies(f, want);
}

TEST_CASE("followers catch up a long backlog page by page from the loop",
          "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(2);
  cfg.heartbeat = 10min;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 2500);
  // 50 pages each: more than one worker turn, so they queue again between turns.
  chunked_followers f{srv.port(), 8, follow_request("text/event-stream", "from=1&batch_size=50")};
  REQUIRE(f.read_until(body_is(sse_events(1, 2500)), 60s));
  check_bodies(f, sse_events(1, 2500));
  REQUIRE(eventually([&] { return conn_figure(*cli, "following") == 8; }));
}

TEST_CASE("a caught-up follower gets heartbeats from the loop", "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(4);
  cfg.heartbeat = 100ms;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 1);
  chunked_followers s{srv.port(), 1, follow_request("text/event-stream")};
  chunked_followers n{srv.port(), 1, follow_request("application/x-ndjson")};
  auto beats = sse_events(1, 1) + ": keep-alive\n\n: keep-alive\n\n: keep-alive\n\n";
  REQUIRE(s.read_until(body_is(beats), 20s));
  check_bodies(s, beats);
  REQUIRE(n.read_until(body_is(ndjson_events(1, 1) + "\n\n\n"), 20s));
  check_bodies(n, ndjson_events(1, 1) + "\n\n\n");
  REQUIRE(post(*cli, "/events/batch", make_batch(2, 1)).status == 200);
  REQUIRE(s.read_until([](const chunked_response& r) {
    return r.bad || r.closed || r.body.find(sse_events(2, 2)) != std::string::npos;
  }, 20s));
  CHECK_FALSE(s[0].bad);
}

TEST_CASE("a follower whose client leaves is dropped from the loop",
          "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(4);
  cfg.heartbeat = 10min;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 1);
  chunked_followers f{srv.port(), 10, follow_request("text/event-stream")};
  REQUIRE(f.read_until(body_is(sse_events(1, 1)), 20s));
  REQUIRE(eventually([&] { return conn_figure(*cli, "following") == 10; }));
  auto open = conn_figure(*cli, "open");
  for (std::size_t i = 0; i < 4; ++i)
    f.close(i);
  CHECK(eventually([&] { return conn_figure(*cli, "following") == 6; }));
  CHECK(eventually([&] { return conn_figure(*cli, "open") == open - 4; }));
  CHECK(eventually([&] { return srv.get_tenant()->stats().events_waiting.load() == 6; }));
}

TEST_CASE("a follower that reads nothing is closed after WRITE_TIMEOUT, the others go on",
          "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(4);
  cfg.heartbeat = 10min;
  cfg.write_timeout = 500ms;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 1);
  chunked_followers slow{srv.port(), 1, follow_request("text/event-stream"), 4096};
  chunked_followers fast{srv.port(), 3, follow_request("text/event-stream")};
  REQUIRE(slow.read_until(body_is(sse_events(1, 1)), 20s));
  REQUIRE(fast.read_until(body_is(sse_events(1, 1)), 20s));
  REQUIRE(eventually([&] { return conn_figure(*cli, "following") == 4; }));
  // 96 events of 64 KiB: far more than the slow client's and the server's buffers.
  std::string big(64 * 1024, 'x');
  int64_t last = 1;
  for (int b = 0; b < 6; ++b) {
    std::string batch = "[";
    for (int i = 0; i < 16; ++i)
      batch += std::string{i ? "," : ""} + "{\"type\":\"big\",\"data\":\"" + big + "\"}";
    REQUIRE(post(*cli, "/events/batch", batch + "]").status == 200);
    last += 16;
    // The fast ones read as it comes.
    fast.read_until([&](const chunked_response& r) {
      return r.bad || r.closed || r.body.find("id: " + std::to_string(last) + "\n")
                                    != std::string::npos;
    }, 20s);
  }
  for (std::size_t i = 0; i < fast.size(); ++i) {
    INFO("fast follower " << i);
    CHECK_FALSE(fast[i].bad);
    CHECK_FALSE(fast[i].closed);
    CHECK(fast[i].body.find("id: 97\n") != std::string::npos);
  }
  CHECK(eventually([&] { return conn_figure(*cli, "write_timeouts") == 1; }));
  CHECK(eventually([&] { return conn_figure(*cli, "following") == 3; }));
  // The slow client finds its response cut off.
  CHECK(slow.read_until([](const chunked_response& r) { return r.closed || r.bad; }, 20s));
  CHECK_FALSE(slow[0].ended);
}

TEST_CASE("shutdown ends 50 followers in the loop with the last chunk",
          "[http][live][follow_loop]") {
  temp_dir dir;
  auto cfg = loop_config(4);
  cfg.heartbeat = 10min;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 3);
  chunked_followers f{srv.port(), 50, follow_request("application/x-ndjson")};
  REQUIRE(f.read_until(body_is(ndjson_events(1, 3)), 20s));
  REQUIRE(eventually([&] { return conn_figure(*cli, "following") == 50; }));
  auto start = std::chrono::steady_clock::now();
  std::thread stopper{[&] { srv.stop_http(); }};
  bool all = f.read_until([](const chunked_response& r) {
    return r.bad || (r.ended && r.closed);
  }, 20s);
  stopper.join();
  CHECK(all);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  for (std::size_t i = 0; i < f.size(); ++i) {
    INFO("follower " << i);
    CHECK_FALSE(f[i].bad);
    CHECK(f[i].ended);
    CHECK(f[i].body == ndjson_events(1, 3));
  }
}
