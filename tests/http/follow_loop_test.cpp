// HTTP tests of followers that go on in the event loop: caught up, they hold no worker;
// their pages, heartbeats and last chunk are written by the loop in the library's
// framing; slow ones are closed after WRITE_TIMEOUT without holding anyone up.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
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

constexpr const char* sse = "text/event-stream";
constexpr const char* ndjson = "application/x-ndjson";

std::string follow_request(const std::string& accept, const std::string& query = "from=1",
                           const std::string& extra = "") {
  return raw_get("/events/stream?follow=true&" + query, "Accept: " + accept + "\r\n" + extra);
}

// A body at least as long as `want` (or a response that failed or closed): compared after.
auto body_is(const std::string& want) {
  return [want](const chunked_response& r) {
    return r.bad || r.closed || r.body.size() >= want.size();
  };
}

// A body that holds `text` (or a response that failed or closed).
auto body_has(const std::string& text) {
  return [text](const chunked_response& r) {
    return r.bad || r.closed || r.body.find(text) != std::string::npos;
  };
}

void check_bodies(chunked_followers& f, const std::string& want) {
  for (std::size_t i = 0; i < f.size(); ++i) {
    INFO("follower " << i);
    CHECK_FALSE(f[i].bad);
    CHECK(f[i].body == want);
  }
}

// A server with 4 workers (a tenant with `events` events of make_batch) and its client.
struct loop_server {
  temp_dir dir;
  test_server srv;
  std::unique_ptr<httplib::Client> cli;

  explicit loop_server(int64_t events, std::chrono::nanoseconds heartbeat = 10min,
                       std::chrono::nanoseconds write_timeout = 60s, int threads = 4)
    : srv{dir.file("events.db"), config(heartbeat, write_timeout, threads)}, cli{srv.client()} {
    seed(*cli, events);
  }

  static ebuse::server_config config(std::chrono::nanoseconds heartbeat,
                              std::chrono::nanoseconds write_timeout, int threads) {
    auto cfg = loop_config(threads);
    cfg.heartbeat = heartbeat;
    cfg.write_timeout = write_timeout;
    return cfg;
  }

  // One figure of /metrics' "http.connections" (-1 if it did not answer).
  int64_t figure(const char* name) {
    return connection_figure(*cli, name);
  }

  // Followers reading `want` first, then counted in the loop.
  bool caught_up(chunked_followers& f, const std::string& want, int64_t following) {
    return f.read_until(body_is(want), 60s)
           && eventually([&] { return figure("following") == following; });
  }

  void append(int64_t first, int64_t count) {
    REQUIRE(post(*cli, "/events/batch", make_batch(first, count)).status == 200);
  }
};

} // namespace

TEST_CASE("100 caught-up SSE followers hold none of 4 workers and get every event once",
          "[http][live][follow_loop]") {
  loop_server s{2};
  int threads_before = process_threads();
  chunked_followers f{s.srv.port(), 100, follow_request(sse)};
  REQUIRE(s.caught_up(f, sse_events(1, 2), 100));
  check_bodies(f, sse_events(1, 2));
  // The /metrics request itself; a wake-up left over from seeding (a NOTIFY on
  // PostgreSQL) may take a follower through a worker for a moment.
  CHECK(eventually([&] { return s.figure("in_worker") <= 1; }));
  // The library logged each follow when its provider handed the response to the loop.
  auto m = nlohmann::json::parse(get(*s.cli, "/metrics").body);
  CHECK(m["http"]["routes"]["events_stream"]["2xx"] == 100);
  // Other requests are answered at once: no worker is taken by a follower.
  auto quick = s.srv.client();
  quick->set_read_timeout(5);
  CHECK(get(*quick, "/position").status == 200);
  CHECK(process_threads() <= threads_before + 1);
  // A few appends: each follower gets each event once, in order, in chunked framing.
  s.append(3, 5);
  s.append(8, 1);
  s.append(9, 4);
  REQUIRE(f.read_until(body_is(sse_events(1, 12)), 20s));
  check_bodies(f, sse_events(1, 12));
  CHECK(eventually([&] { return s.figure("following") == 100; }));
}

TEST_CASE("NDJSON followers in the loop resume with Last-Event-ID and filter by type",
          "[http][live][follow_loop]") {
  loop_server s{10};
  chunked_followers f{s.srv.port(), 20,
                      follow_request(ndjson, "from=1&type=t2,t3", "Last-Event-ID: 3\r\n")};
  REQUIRE(s.caught_up(f, ndjson_events(9, 10), 20));
  // Events of other types wake them; they park again without writing.
  s.append(11, 4); // t4..t0
  s.append(15, 3); // t1, t2 at 16, t3 at 17
  auto want = ndjson_events(9, 10) + ndjson_events(16, 17);
  REQUIRE(f.read_until(body_is(want), 20s));
  check_bodies(f, want);
}

TEST_CASE("followers catch up a long backlog page by page from the loop",
          "[http][live][follow_loop]") {
  loop_server s{2500, 10min, 60s, 2};
  // 50 pages each: more than one worker turn, so they queue again between turns.
  chunked_followers f{s.srv.port(), 8, follow_request(sse, "from=1&batch_size=50")};
  REQUIRE(s.caught_up(f, sse_events(1, 2500), 8));
  check_bodies(f, sse_events(1, 2500));
}

TEST_CASE("a caught-up follower gets heartbeats from the loop", "[http][live][follow_loop]") {
  loop_server s{1, 100ms};
  chunked_followers a{s.srv.port(), 1, follow_request(sse)};
  chunked_followers b{s.srv.port(), 1, follow_request(ndjson)};
  auto beats = sse_events(1, 1) + ": keep-alive\n\n: keep-alive\n\n: keep-alive\n\n";
  REQUIRE(a.read_until(body_is(beats), 20s));
  check_bodies(a, beats);
  REQUIRE(b.read_until(body_is(ndjson_events(1, 1) + "\n\n\n"), 20s));
  check_bodies(b, ndjson_events(1, 1) + "\n\n\n");
  s.append(2, 1);
  REQUIRE(a.read_until(body_has(sse_events(2, 2)), 20s));
  CHECK_FALSE(a[0].bad);
}

TEST_CASE("a follower whose client leaves is dropped from the loop",
          "[http][live][follow_loop]") {
  loop_server s{1};
  chunked_followers f{s.srv.port(), 10, follow_request(sse)};
  REQUIRE(s.caught_up(f, sse_events(1, 1), 10));
  auto open = s.figure("open");
  for (std::size_t i = 0; i < 4; ++i)
    f.close(i);
  CHECK(eventually([&] { return s.figure("following") == 6; }));
  // At least those 4 closed (another connection counted at the first figure, such as one
  // the /metrics client replaced, may have closed too).
  CHECK(eventually([&] { return s.figure("open") <= open - 4; }, 30s));
  CHECK(eventually([&] { return s.srv.get_tenant()->stats().events_waiting.load() == 6; }));
}

TEST_CASE("a follower that reads nothing is closed after WRITE_TIMEOUT, the others go on",
          "[http][live][follow_loop]") {
  loop_server s{1, 10min, 500ms};
  chunked_followers slow{s.srv.port(), 1, follow_request(sse), 4096};
  chunked_followers fast{s.srv.port(), 3, follow_request(sse)};
  REQUIRE(slow.read_until(body_is(sse_events(1, 1)), 20s));
  REQUIRE(s.caught_up(fast, sse_events(1, 1), 4));
  // 96 events of 64 KiB: far more than the slow client's and the server's buffers.
  std::string big(64 * 1024, 'x');
  for (int b = 0; b < 6; ++b) {
    std::string batch = "[";
    for (int i = 0; i < 16; ++i)
      batch += std::string{i ? "," : ""} + "{\"type\":\"big\",\"data\":\"" + big + "\"}";
    REQUIRE(post(*s.cli, "/events/batch", batch + "]").status == 200);
    // The fast ones read as it comes.
    fast.read_until(body_has("id: " + std::to_string(1 + 16 * (b + 1)) + "\n"), 20s);
  }
  for (std::size_t i = 0; i < fast.size(); ++i) {
    INFO("fast follower " << i);
    CHECK_FALSE(fast[i].bad);
    CHECK_FALSE(fast[i].closed);
    CHECK(fast[i].body.find("id: 97\n") != std::string::npos);
  }
  CHECK(eventually([&] { return s.figure("write_timeouts") == 1; }));
  CHECK(eventually([&] { return s.figure("following") == 3; }));
  // The slow client finds its response cut off.
  CHECK(slow.read_until([](const chunked_response& r) { return r.closed || r.bad; }, 20s));
  CHECK_FALSE(slow[0].ended);
}

TEST_CASE("shutdown ends 50 followers in the loop with the last chunk",
          "[http][live][follow_loop]") {
  loop_server s{3};
  chunked_followers f{s.srv.port(), 50, follow_request(ndjson)};
  REQUIRE(s.caught_up(f, ndjson_events(1, 3), 50));
  auto start = std::chrono::steady_clock::now();
  std::thread stopper{[&] { s.srv.stop_http(); }};
  bool all = f.read_until([](const chunked_response& r) { return r.bad || (r.ended && r.closed); },
                          20s);
  stopper.join();
  CHECK(all);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  check_bodies(f, ndjson_events(1, 3));
  for (std::size_t i = 0; i < f.size(); ++i)
    CHECK(f[i].ended);
}

TEST_CASE("a long-poll and a follower woken by one commit each get their own format",
          "[http][live][follow_loop]") {
  loop_server s{1};
  // Past the head: the follower's first page is empty, written as a heartbeat.
  chunked_followers f{s.srv.port(), 1, follow_request(ndjson, "from=2")};
  REQUIRE(s.caught_up(f, "\n", 1));
  raw_socket poll{s.srv.port()};
  poll.send(raw_get("/events?from=2&wait=20s"));
  REQUIRE(eventually([&] { return parked_conns(*s.cli) == 1; }));
  s.append(2, 1);
  std::string raw;
  REQUIRE(poll.read_responses(20s, raw));
  auto events = parse_array(body_of(raw));
  REQUIRE(events.size() == 1);
  CHECK(events[0].dump() == nlohmann::json::parse(expected_batch_event(2, 2)).dump());
  REQUIRE(f.read_until(body_is("\n" + ndjson_events(2, 2)), 20s));
  check_bodies(f, "\n" + ndjson_events(2, 2));
}
