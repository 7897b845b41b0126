// The stream signal: versions, waits with deadlines, wake-ups across threads, shutdown.
#include "actors/stream_signal.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

using namespace ebuse;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

TEST_CASE("a change before the wait is not missed", "[stream_signal]") {
  stream_signal sig;
  stream_watch w{sig, 7};
  auto seen = w.version();
  sig.notify({7});
  CHECK(w.version() != seen);
  CHECK(w.wait(seen, steady::now() + 10s)); // returns at once
}

TEST_CASE("other streams do not wake a watcher", "[stream_signal]") {
  stream_signal sig;
  stream_watch w{sig, 1};
  auto seen = w.version();
  sig.notify({2, 3});
  CHECK(w.version() == seen);
  auto start = steady::now();
  CHECK_FALSE(w.wait(seen, start + 20ms));
  CHECK(steady::now() - start >= 20ms);
}

TEST_CASE("a notify from another thread wakes the waiter", "[stream_signal]") {
  stream_signal sig;
  stream_watch w{sig, 5};
  auto seen = w.version();
  auto woke = std::async(std::launch::async, [&] { return w.wait(seen, steady::now() + 30s); });
  sig.notify({5});
  REQUIRE(woke.wait_for(10s) == std::future_status::ready);
  CHECK(woke.get());
}

TEST_CASE("shutdown ends every wait at once, also later ones", "[stream_signal]") {
  stream_signal sig;
  stream_watch a{sig, 1};
  stream_watch b{sig, 2};
  auto sa = a.version();
  auto sb = b.version();
  auto wa = std::async(std::launch::async, [&] { return a.wait(sa, steady::now() + 60s); });
  auto wb = std::async(std::launch::async, [&] { return b.wait(sb, steady::now() + 60s); });
  sig.shutdown();
  REQUIRE(wa.wait_for(10s) == std::future_status::ready);
  REQUIRE(wb.wait_for(10s) == std::future_status::ready);
  CHECK_FALSE(wa.get()); // nothing changed: the caller answers with what it has
  CHECK_FALSE(wb.get());
  CHECK(sig.stopped());
  auto start = steady::now();
  CHECK_FALSE(a.wait(sa, start + 60s));
  CHECK(steady::now() - start < 10s);
}

TEST_CASE("several watchers of one stream all wake", "[stream_signal]") {
  stream_signal sig;
  constexpr int n = 8;
  std::vector<std::unique_ptr<stream_watch>> watches;
  std::vector<uint64_t> seen;
  for (int i = 0; i < n; ++i) {
    watches.push_back(std::make_unique<stream_watch>(sig, 9));
    seen.push_back(watches.back()->version());
  }
  std::vector<std::future<bool>> waits;
  for (int i = 0; i < n; ++i)
    waits.push_back(std::async(std::launch::async, [&, i] {
      return watches[i]->wait(seen[i], steady::now() + 30s);
    }));
  sig.notify({9});
  for (auto& f : waits) {
    REQUIRE(f.wait_for(10s) == std::future_status::ready);
    CHECK(f.get());
  }
}
