// The shutdown timeline: the grace period, the cut, and the bounds of the later phases.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "app/shutdown.hpp"

using namespace ebuse;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// What the control did, observed from the test thread.
struct observer {
  std::mutex mtx;
  std::condition_variable cv;
  std::string overdue; ///< the phase reported overdue, empty while none
  clock_type::time_point overdue_at;
  std::atomic<int> stops{0};
  std::atomic<int> cuts{0};

  std::function<void(const char*)> on_overdue() {
    return [this](const char* phase) {
      std::lock_guard<std::mutex> guard{mtx};
      overdue = phase;
      overdue_at = clock_type::now();
      cv.notify_all();
    };
  }

  // Waits at most `limit` for an overdue phase; its name, or empty.
  std::string wait_overdue(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait_for(lock, limit, [this] { return !overdue.empty(); });
    return overdue;
  }
};

shutdown_limits short_limits() {
  shutdown_limits l;
  l.grace = 100ms;
  l.drain = 150ms;
  l.stores = 200ms;
  return l;
}

} // namespace

TEST_CASE("the limits cover a final commit and a final checkpoint that wait for locks") {
  auto l = shutdown_limits::of(30s, 30s, 5s);
  CHECK(l.grace == 30s);
  CHECK(l.drain > 30s);
  CHECK(l.stores > 10s); // two waits of the busy timeout, and the copy of the WAL
}

TEST_CASE("requests past the grace are cut, and stuck workers are overdue after the drain") {
  observer obs;
  auto start = clock_type::now();
  shutdown_control sc{short_limits(), obs.on_overdue()};
  sc.begin("test", [&] { ++obs.stops; }, [&] { ++obs.cuts; });
  CHECK(obs.stops == 1);
  REQUIRE(obs.wait_overdue(10s) == "requests");
  CHECK(obs.cuts == 1);
  CHECK(sc.forced());
  CHECK(obs.overdue_at - start >= 250ms); // grace + drain
  // A second signal changes nothing.
  sc.begin("again", [&] { ++obs.stops; }, [&] { ++obs.cuts; });
  CHECK(obs.stops == 1);
}

TEST_CASE("the stores' phase is bounded from the end of serving") {
  observer obs;
  shutdown_control sc{short_limits(), obs.on_overdue()};
  sc.begin("test", [&] { ++obs.stops; }, [&] { ++obs.cuts; });
  auto served_at = clock_type::now();
  sc.served();
  REQUIRE(obs.wait_overdue(10s) == "stores");
  CHECK(obs.overdue_at - served_at >= 200ms);
  CHECK(obs.cuts == 0);
  CHECK_FALSE(sc.forced());
}

TEST_CASE("serving that ends without a signal still bounds the stores' phase") {
  observer obs;
  shutdown_control sc{short_limits(), obs.on_overdue()};
  auto served_at = clock_type::now();
  sc.served();
  REQUIRE(obs.wait_overdue(10s) == "stores");
  CHECK(obs.overdue_at - served_at >= 200ms);
  // Too late for a signal to begin anything.
  sc.begin("late", [&] { ++obs.stops; }, [&] { ++obs.cuts; });
  CHECK(obs.stops == 0);
}

TEST_CASE("a shutdown that finishes within its bounds is never cut nor overdue") {
  observer obs;
  auto limits = short_limits();
  limits.grace = 10s;
  limits.stores = 10s;
  {
    shutdown_control sc{limits, obs.on_overdue()};
    sc.begin("test", [&] { ++obs.stops; }, [&] { ++obs.cuts; });
    sc.served();
    sc.finished();
  } // joins the timer
  CHECK(obs.overdue.empty());
  CHECK(obs.cuts == 0);
  CHECK(obs.stops == 1);
}
