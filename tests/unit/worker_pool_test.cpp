// The worker pool: one queue, N threads; a long job holds up only its own thread.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

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

TEST_CASE("an idle pool lets the caller run a job under the same bound", "[worker_pool]") {
  worker_pool pool{1};
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  REQUIRE(pool.run_here_if_idle([&] { ran_on = std::this_thread::get_id(); }));
  CHECK(ran_on == caller);
  CHECK(pool.done() == 1);

  // While the caller's job holds the pool's only place, a submitted job waits for it.
  std::promise<void> inside;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<bool> caller_done{false};
  std::atomic<bool> queued_saw_caller_done{false};
  auto holder = std::async(std::launch::async, [&] {
    return pool.run_here_if_idle([&] {
      inside.set_value();
      released.wait();
      caller_done = true;
    });
  });
  inside.get_future().wait();
  CHECK(pool.busy() == 1);
  CHECK_FALSE(pool.run_here_if_idle([] {})); // no place left
  std::promise<void> second;
  REQUIRE(pool.submit([&] {
    queued_saw_caller_done = caller_done.load();
    second.set_value();
  }));
  CHECK(pool.queued() == 1);
  CHECK_FALSE(pool.run_here_if_idle([] {})); // a job is queued: it goes first
  release.set_value();
  CHECK(holder.get());
  CHECK(second.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(queued_saw_caller_done.load());

  // A busy pool thread leaves no place for the caller.
  std::promise<void> blocked;
  std::promise<void> unblock;
  auto unblocked = unblock.get_future().share();
  REQUIRE(pool.submit([&blocked, unblocked] {
    blocked.set_value();
    unblocked.wait();
  }));
  blocked.get_future().wait();
  CHECK_FALSE(pool.run_here_if_idle([] {}));
  unblock.set_value();
  pool.stop();
  CHECK_FALSE(pool.run_here_if_idle([] {})); // stopped
  CHECK(pool.done() == 4);
}

TEST_CASE("a caller's job keeps one pool thread awake until after it", "[worker_pool]") {
  if (std::thread::hardware_concurrency() < 2)
    return; // on one core the pool keeps no thread awake
  // A long linger so that a slow machine still sees the thread awake.
  worker_pool pool{2, std::chrono::microseconds(20ms)};
  CHECK(pool.lingering() == 0); // nothing ran yet: every thread sleeps
  std::atomic<bool> awake_during{false};
  REQUIRE(pool.run_here_if_idle([&] {
    awake_during = ebuse::test::eventually([&] { return pool.lingering() == 1; });
  }));
  CHECK(awake_during.load());
  // It goes back to sleep once `linger` has passed after the caller's job.
  CHECK(ebuse::test::eventually([&] { return pool.lingering() == 0; }));
  // A queued job is taken by the lingering thread as by a sleeping one.
  std::promise<void> ran;
  REQUIRE(pool.run_here_if_idle([&] {
    REQUIRE(ebuse::test::eventually([&] { return pool.lingering() == 1; }));
    REQUIRE(pool.submit([&] { ran.set_value(); }));
    CHECK(ran.get_future().wait_for(10s) == std::future_status::ready);
  }));
  pool.stop();
  CHECK(pool.done() == 3);
}

TEST_CASE("without linger a caller's job wakes no pool thread", "[worker_pool]") {
  worker_pool pool{2};
  REQUIRE(pool.run_here_if_idle([&] {
    CHECK_FALSE(ebuse::test::eventually([&] { return pool.lingering() > 0; }, 100ms));
  }));
  // A thread woken for a job sleeps again at once after it.
  std::promise<void> ran;
  REQUIRE(pool.submit([&] { ran.set_value(); }));
  CHECK(ran.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(ebuse::test::eventually([&] { return pool.busy() == 0; }));
  CHECK(pool.lingering() == 0);
}
