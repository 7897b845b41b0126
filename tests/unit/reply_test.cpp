// The one-shot reply channel between actors and HTTP threads.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>
#include <vector>

#include "actors/reply.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

TEST_CASE("a reply delivered before the wait is taken at once", "[reply]") {
  auto [tx, rx] = make_reply<int>();
  deliver<int>(tx, 7);
  auto res = await(rx, 1s);
  REQUIRE(res);
  CHECK(*res == 7);
}

TEST_CASE("a waiter gets a reply delivered while it spins or sleeps", "[reply]") {
  // 0 ms: within the spin; 20 ms: long after it, from sleep.
  for (auto delay : {0ms, 20ms}) {
    auto [tx, rx] = make_reply<int>();
    std::thread t{[tx = tx, delay] {
      std::this_thread::sleep_for(delay);
      deliver<int>(tx, 42);
    }};
    auto start = std::chrono::steady_clock::now();
    auto res = await(rx, 5s);
    t.join();
    REQUIRE(res);
    CHECK(*res == 42);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
  }
}

TEST_CASE("many waiters at once each get their own reply", "[reply]") {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([i, &ok] {
      auto [tx, rx] = make_reply<int>();
      std::thread sender{[tx = tx, i] {
        std::this_thread::sleep_for(std::chrono::milliseconds(i % 4));
        deliver<int>(tx, i);
      }};
      auto res = await(rx, 5s);
      sender.join();
      if (res && *res == i)
        ++ok;
    });
  }
  for (auto& t : threads)
    t.join();
  CHECK(ok.load() == 16);
  CHECK(detail::reply_waiters.load() == 0);
}

TEST_CASE("a sender dropped without answering fails the waiter at once", "[reply]") {
  auto [tx, rx] = make_reply<int>();
  std::thread t{[tx = std::move(tx)]() mutable {
    std::this_thread::sleep_for(10ms);
    tx.reset();
  }};
  auto start = std::chrono::steady_clock::now();
  auto res = await(rx, 10s);
  t.join();
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::storage_unavailable);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
}

TEST_CASE("no reply within the timeout is errc::timeout, and the first answer stands",
          "[reply]") {
  auto [tx, rx] = make_reply<int>();
  auto res = await(rx, 30ms);
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::timeout);
  auto [tx2, rx2] = make_reply<int>();
  deliver<int>(tx2, 1);
  deliver<int>(tx2, 2);
  auto res2 = await(rx2, 1s);
  REQUIRE(res2);
  CHECK(*res2 == 1);
}
