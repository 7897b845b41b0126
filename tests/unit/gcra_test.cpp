// Unit tests for the GCRA arithmetic alone: a token bucket in one number.
#include <catch2/catch.hpp>

#include "core/gcra.hpp"

using namespace ebuse;

namespace {

constexpr int64_t sec = 1000000000;

} // namespace

TEST_CASE("GCRA passes a burst, then one request per interval") {
  gcra g{{2, 3}}; // 2/s, burst 3: T = 500 ms, capacity 1.5 s
  int64_t now = 50 * sec;
  int64_t tat = 0; // in the past: a full bucket
  for (int64_t left = 2; left >= 0; --left) {
    int64_t next = -1;
    auto d = g.decide(tat, now, next);
    REQUIRE(d.allowed);
    CHECK(d.limit == 3);
    CHECK(d.remaining == left);
    CHECK(next == std::max(tat, now) + sec / 2);
    tat = next;
  }
  CHECK(tat == now + 3 * sec / 2);
  int64_t next = -1;
  auto d = g.decide(tat, now, next);
  CHECK_FALSE(d.allowed);
  CHECK(next == tat); // a denial leaves the bucket as it was
  CHECK(d.remaining == 0);
  CHECK(d.retry_after_seconds == 1); // 500 ms, rounded up to whole seconds
  CHECK(d.reset_seconds == 2);       // 1.5 s until full, rounded up
  // Half a second later exactly one more passes.
  d = g.decide(tat, now + sec / 2, next);
  CHECK(d.allowed);
  CHECK(d.remaining == 0);
  d = g.decide(next, now + sec / 2, next);
  CHECK_FALSE(d.allowed);
}

TEST_CASE("a GCRA bucket at rest for its capacity is full again") {
  gcra g{{10, 5}};
  int64_t now = 7 * sec;
  int64_t next = 0;
  auto d = g.decide(now + sec / 2, now + sec / 2, next); // TAT == now: nothing owed
  CHECK(d.remaining == 4);
  d = g.decide(now, now + sec, next); // TAT long past
  CHECK(d.remaining == 4);
  CHECK(d.reset_seconds == 1);
}
