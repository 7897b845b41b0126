// Unit tests for the rate limiter: GCRA arithmetic, eviction, new clients, threads, sweeps.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/rate_limiter.hpp"

using namespace ebuse;

namespace {

constexpr int64_t sec = 1000000000;

rate_key key(uint64_t n) {
  return {n, n * 7 + 1};
}

} // namespace

TEST_CASE("a bucket allows its burst, then the rate, and says when to retry") {
  rate_table t{{10, 5}, 1000, std::chrono::seconds(60)}; // 10/s, burst 5
  int64_t now = 100 * sec;
  rate_decision d;
  CHECK_FALSE(t.try_consume(key(1), now, d)); // no bucket yet
  d = t.consume_or_insert(key(1), now);
  CHECK(d.allowed);
  CHECK(d.limit == 5);
  CHECK(d.remaining == 4);
  CHECK(d.reset_seconds == 1);
  for (int i = 0; i < 4; ++i) {
    REQUIRE(t.try_consume(key(1), now, d));
    CHECK(d.allowed);
    CHECK(d.remaining == 3 - i);
  }
  REQUIRE(t.try_consume(key(1), now, d));
  CHECK_FALSE(d.allowed);
  CHECK(d.remaining == 0);
  CHECK(d.retry_after_seconds == 1); // 100 ms rounded up to whole seconds
  CHECK(d.reset_seconds == 1);
  // A denial costs nothing: 100 ms later exactly one more passes.
  REQUIRE(t.try_consume(key(1), now + sec / 10, d));
  CHECK(d.allowed);
  REQUIRE(t.try_consume(key(1), now + sec / 10, d));
  CHECK_FALSE(d.allowed);
  // Other clients have their own buckets.
  CHECK(t.consume_or_insert(key(2), now).allowed);
  CHECK(t.allowed.load() == 7);
  CHECK(t.denied.load() == 2);

  // A slow rate: Retry-After counts whole seconds.
  rate_table slow{{1, 1}, 1000, std::chrono::seconds(60)};
  CHECK(slow.consume_or_insert(key(1), now).allowed);
  d = slow.consume_or_insert(key(1), now + sec / 4);
  CHECK_FALSE(d.allowed);
  CHECK(d.retry_after_seconds == 1);
  CHECK(slow.consume_or_insert(key(1), now + sec).allowed);
}

TEST_CASE("idle buckets are evicted and a flood of clients stays bounded") {
  rate_table t{{100, 200}, 3200, std::chrono::seconds(10)}; // 200 per shard
  int64_t now = 1000 * sec;
  for (uint64_t i = 0; i < 1000; ++i)
    CHECK(t.consume_or_insert(key(i), now).allowed);
  CHECK(t.size() == 1000);
  CHECK(t.sweep(now + 5 * sec) == 0); // not idle long enough
  CHECK(t.sweep(now + 11 * sec) == 1000);
  CHECK(t.size() == 0);

  // 100 000 distinct clients within the idle time: the table never exceeds its cap.
  size_t peak = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    CHECK(t.consume_or_insert(key(1000000 + i), now + static_cast<int64_t>(i)).allowed);
    if (i % 1000 == 0)
      peak = std::max(peak, t.size());
  }
  CHECK(peak <= 3200);
  CHECK(t.size() <= 3200);
}

TEST_CASE("new clients are decided on the calling thread, without the actor") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::atomic<int64_t> now{1000 * sec}; // stands still unless the test moves it
  rate_limiter_options opts;
  opts.per_ip = {1, 3};
  opts.per_key = {0, 1};
  opts.clock = [&now] { return now.load(); };
  auto lim = rate_limiter::start(sys, opts);
  CHECK(lim->enabled(rate_scope::ip));
  CHECK_FALSE(lim->enabled(rate_scope::key));
  CHECK(lim->check(rate_scope::key, key(1)).allowed); // disabled: always allowed
  // With the actor gone, new clients are still limited exactly (nothing fails open).
  lim->stop();
  int allowed = 0;
  for (int i = 0; i < 10; ++i)
    allowed += lim->check(rate_scope::ip, key(1)).allowed ? 1 : 0;
  CHECK(allowed == 3);
  CHECK(lim->table(rate_scope::ip)->size() == 1);
  CHECK(lim->table(rate_scope::ip)->denied.load() == 7);

  // Concurrent first requests of many clients: each gets exactly its burst.
  std::vector<std::thread> threads;
  std::atomic<int> passed{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (lim->check(rate_scope::ip, key(100 + (i % 10))).allowed)
          passed.fetch_add(1);
    });
  for (auto& th : threads)
    th.join();
  CHECK(passed.load() == 30); // 10 clients x burst 3; the clock did not move
  // One second later each client has one more.
  now += sec;
  CHECK(lim->check(rate_scope::ip, key(100)).allowed);
  CHECK_FALSE(lim->check(rate_scope::ip, key(100)).allowed);
}

TEST_CASE("the limiter actor sweeps buckets that are full again") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::atomic<int64_t> now{1000 * sec};
  rate_limiter_options opts;
  opts.per_ip = {10, 10};
  opts.idle = std::chrono::seconds(60);
  opts.sweep_interval = std::chrono::milliseconds(5);
  opts.clock = [&now] { return now.load(); };
  auto lim = rate_limiter::start(sys, opts);
  for (uint64_t i = 0; i < 100; ++i)
    lim->check(rate_scope::ip, key(i));
  const auto& table = *lim->table(rate_scope::ip);
  CHECK(table.size() == 100);
  // Not idle long enough: sweeps (the actor keeps running them) leave every bucket.
  auto handled = lim->actor_stats().handled.load();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (lim->actor_stats().handled.load() < handled + 3
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(table.size() == 100);
  now += 62 * sec;
  while (table.size() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(table.size() == 0);
  lim->stop();
}

TEST_CASE("API keys map to stable, distinct bucket keys") {
  CHECK(rate_key_of_api_key("abc") == rate_key_of_api_key("abc"));
  CHECK_FALSE(rate_key_of_api_key("abc") == rate_key_of_api_key("abd"));
  CHECK_FALSE(rate_key_of_api_key("") == rate_key_of_api_key("a"));
}
