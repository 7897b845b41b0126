// The worker pool: one queue, N threads; a long job holds up only its own thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>

#include "storage/worker_pool.hpp"
#include "support/eventually.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

TEST_CASE("a blocked job holds up only its own worker", "[worker_pool]") {
  worker_pool pool{2};
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> blocked;
  REQUIRE(pool.submit([&blocked, released] {
    blocked.set_value();
    released.wait();
  }));
  blocked.get_future().wait();
  // Every later job runs on the other worker meanwhile.
  std::atomic<int> ran{0};
  std::promise<void> all;
  for (int i = 0; i < 10; ++i)
    REQUIRE(pool.submit([&] {
      if (++ran == 10)
        all.set_value();
    }));
  CHECK(all.get_future().wait_for(10s) == std::future_status::ready);
  // The last job has answered; its worker counts itself free right after.
  CHECK(ebuse::test::eventually([&] { return pool.busy() == 1; }));
  release.set_value();
  pool.stop();
  CHECK(pool.done() == 11);
  CHECK(pool.busy() == 0);
}

TEST_CASE("stopping runs what is queued, then refuses new jobs", "[worker_pool]") {
  worker_pool pool{1};
  std::promise<void> release;
  auto released = release.get_future().share();
  REQUIRE(pool.submit([released] { released.wait(); }));
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i)
    REQUIRE(pool.submit([&] { ++ran; }));
  CHECK(pool.queued() >= 5);
  auto stopper = std::async(std::launch::async, [&] { pool.stop(); });
  release.set_value();
  stopper.get();
  CHECK(ran.load() == 5);
  CHECK_FALSE(pool.submit([&] { ++ran; }));
  CHECK(ran.load() == 5);
}
