// HTTP tests for rate limiting: per client address over many connections, 429 headers,
// /health exempt, X-Forwarded-For only from trusted proxies, per API key.
#include <catch2/catch.hpp>

#include <string>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

// One token a second, on a clock that stands still: no token comes back while a test
// runs, however slow the machine (sanitizers, load).
ebuse::server_config limited(int burst) {
  auto cfg = quiet_config();
  cfg.rate_limit = 1;
  cfg.rate_burst = burst;
  return cfg;
}

ebuse::test::test_server::http_adjust frozen_clock() {
  return [](ebuse::http_options& o) { o.rate_limits.clock = [] { return int64_t{1} << 40; }; };
}

// Sends `n` requests, each on a fresh connection; counts the 200s.
int count_ok(const test_server& srv, int n, const httplib::Headers& h = {},
             const std::string& path = "/position") {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    auto cli = srv.client();
    cli->set_keep_alive(false);
    if (get(*cli, path, h).status == 200)
      ++ok;
  }
  return ok;
}

} // namespace

TEST_CASE("the limit holds per client address across connections", "[http][ratelimit]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), limited(5), frozen_clock()};
  // Fresh connections do not reset it (the original keyed on ip:port).
  CHECK(count_ok(srv, 12) == 5);

  auto cli = srv.client();
  auto r = get(*cli, "/position");
  check_error(r, 429, "rate_limited");
  CHECK(r.header("Retry-After") == "1");
  CHECK(r.header("RateLimit-Limit") == "5");
  CHECK(r.header("RateLimit-Remaining") == "0");
  CHECK(std::stoi(r.header("RateLimit-Reset")) >= 1);
  // Writes are refused without being read or applied; the connection is closed so
  // that the unread body is not taken for a request.
  auto w = post(*cli, "/events", R"({"type":"a","data":1})");
  check_error(w, 429, "rate_limited");
  CHECK(w.header("Connection") == "close");
  // Missing keys are limited too: the check comes before authentication.
  check_error(get(*srv.client(false), "/position"), 429, "rate_limited");
  // /health is exempt.
  for (int i = 0; i < 10; ++i)
    CHECK(get(*cli, "/health").status == 200);
  // Nothing was written.
  CHECK(srv.get_tenant()->stats().head.load() == 0);
}

TEST_CASE("allowed responses carry the RateLimit headers", "[http][ratelimit]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), limited(3), frozen_clock()};
  auto cli = srv.client();
  for (int left = 2; left >= 0; --left) {
    auto r = get(*cli, "/position");
    REQUIRE(r.status == 200);
    CHECK(r.header("RateLimit-Limit") == "3");
    CHECK(r.header("RateLimit-Remaining") == std::to_string(left));
    CHECK_FALSE(r.has_header("Retry-After"));
  }
  CHECK(get(*cli, "/position").status == 429);
}

TEST_CASE("X-Forwarded-For is ignored unless the peer is a trusted proxy", "[http][ratelimit]") {
  temp_dir dir;
  SECTION("untrusted: spoofed headers do not evade the limit") {
    test_server srv{dir.file("events.db"), limited(3), frozen_clock()};
    int ok = 0;
    for (int i = 0; i < 10; ++i) {
      auto cli = srv.client();
      std::string fake = "198.51.100." + std::to_string(i);
      ok += get(*cli, "/position",
                {{"X-Forwarded-For", fake}, {"Forwarded", "for=" + fake}}).status == 200;
    }
    CHECK(ok == 3);
  }
  SECTION("trusted: each forwarded client has its own bucket") {
    auto cfg = limited(3);
    cfg.trusted_proxies = "127.0.0.0/8";
    test_server srv{dir.file("events.db"), cfg, frozen_clock()};
    auto cli = srv.client();
    for (int i = 0; i < 10; ++i) {
      std::string client = "198.51.100." + std::to_string(i);
      CHECK(get(*cli, "/position", {{"X-Forwarded-For", client}}).status == 200);
    }
    // One forwarded client is limited as itself, whatever it prepends.
    CHECK(count_ok(srv, 5, {{"X-Forwarded-For", "203.0.113.9"}}) == 3);
    CHECK(count_ok(srv, 2, {{"X-Forwarded-For", "1.1.1.1, 203.0.113.9"}}) == 0);
    CHECK(count_ok(srv, 2, {{"Forwarded", "for=\"203.0.113.9:1234\""}}) == 0);
    // IPv6 clients are limited by their /64.
    CHECK(count_ok(srv, 2, {{"X-Forwarded-For", "2001:db8:1:2::1"}}) == 2);
    CHECK(count_ok(srv, 2, {{"X-Forwarded-For", "2001:db8:1:2::ffff"}}) == 1);
  }
}

TEST_CASE("an optional limit per API key applies after authentication", "[http][ratelimit]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.rate_limit_per_key = 1;
  cfg.rate_burst_per_key = 4;
  test_server srv{dir.file("events.db"), cfg, frozen_clock()};
  auto cli = srv.client();
  CHECK(count_ok(srv, 6) == 4);
  auto r = get(*cli, "/position");
  check_error(r, 429, "rate_limited");
  CHECK(r.header("RateLimit-Limit") == "4");
  CHECK(r.header("Retry-After") == "1");
  // Wrong keys get 401, not 429, and do not use the key's budget.
  check_error(get(*srv.client(false), "/position", {{"X-API-Key", "nope"}}), 401,
              "unauthorized");
}

TEST_CASE("RATE_LIMIT=0 disables limiting", "[http][ratelimit]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.rate_limit = 0;
  cfg.rate_burst = 1;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  for (int i = 0; i < 20; ++i) {
    auto r = get(*cli, "/position");
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.has_header("RateLimit-Limit"));
  }
}
