// Single-flight page loads: one load for concurrent callers, errors not kept, bounded memory.
#include "http/page_flight.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "core/errc.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

namespace {

event_page page_of(std::string json, int64_t count = 1) {
  event_page p;
  p.json = std::move(json);
  p.count = count;
  p.last_position = count;
  return p;
}

} // namespace

TEST_CASE("callers of one key while its load runs share that load", "[page_flight]") {
  page_flight flight{{64, 1 << 20, std::chrono::hours(1)}};
  std::atomic<int> loads{0};
  std::promise<void> started;
  std::promise<void> release;
  auto gate = release.get_future().share();
  auto load = [&]() -> caf::expected<event_page> {
    if (loads.fetch_add(1) == 0) {
      started.set_value();
      gate.wait(); // the first load stays in flight until every caller is running
    }
    return page_of("[{\"position\":1}]");
  };
  auto first = std::async(std::launch::async, [&] { return flight.get("k", load); });
  started.get_future().wait();
  std::vector<std::future<caf::expected<shared_page>>> others;
  for (int i = 0; i < 16; ++i)
    others.push_back(std::async(std::launch::async, [&] { return flight.get("k", load); }));
  release.set_value();
  auto mine = first.get();
  REQUIRE(mine);
  for (auto& f : others) {
    auto got = f.get();
    REQUIRE(got);
    CHECK(got->get() == mine->get()); // the very same page
  }
  CHECK(loads == 1);
  CHECK((*mine)->json == "[{\"position\":1}]");
  // Another key is loaded on its own.
  auto other = flight.get("k2", load);
  REQUIRE(other);
  CHECK(loads == 2);
}

TEST_CASE("a failed load is not kept: the next caller loads again", "[page_flight]") {
  page_flight flight{{64, 1 << 20, std::chrono::hours(1)}};
  int loads = 0;
  auto failing = [&]() -> caf::expected<event_page> {
    ++loads;
    return make_error(errc::storage_unavailable, "down");
  };
  auto r1 = flight.get("k", failing);
  CHECK_FALSE(r1);
  CHECK(r1.error() == make_error(errc::storage_unavailable, "down"));
  CHECK(flight.kept() == 0);
  auto ok = [&]() -> caf::expected<event_page> {
    ++loads;
    return page_of("[]", 0);
  };
  auto r2 = flight.get("k", ok);
  REQUIRE(r2);
  CHECK(loads == 2);
  CHECK(flight.kept() == 1);
  // Kept: a later caller of the key gets it without loading.
  CHECK(flight.get("k", failing));
  CHECK(loads == 2);
}

TEST_CASE("finished pages are bounded in count and in bytes", "[page_flight]") {
  page_flight flight{{4, 1000, std::chrono::hours(1)}};
  int loads = 0;
  auto small = [&]() -> caf::expected<event_page> {
    ++loads;
    return page_of(std::string(100, 'x'));
  };
  for (int i = 0; i < 10; ++i)
    REQUIRE(flight.get("k" + std::to_string(i), small));
  CHECK(flight.kept() == 4);
  // The newest are kept, the oldest went.
  REQUIRE(flight.get("k9", small));
  CHECK(loads == 10);
  REQUIRE(flight.get("k0", small));
  CHECK(loads == 11);
  CHECK(flight.kept() == 4);
  // A page above a quarter of the byte budget is handed out but not kept.
  auto big = [&]() -> caf::expected<event_page> {
    ++loads;
    return page_of(std::string(400, 'y'));
  };
  auto b = flight.get("big", big);
  REQUIRE(b);
  CHECK((*b)->json.size() == 400);
  REQUIRE(flight.get("big", big));
  CHECK(loads == 13);
}

TEST_CASE("finished pages beyond the byte budget push the oldest out", "[page_flight]") {
  page_flight flight{{64, 1000, std::chrono::hours(1)}};
  int loads = 0;
  auto mid = [&]() -> caf::expected<event_page> {
    ++loads;
    return page_of(std::string(250, 'z'));
  };
  for (int i = 0; i < 4; ++i)
    REQUIRE(flight.get("m" + std::to_string(i), mid));
  CHECK(flight.kept() == 4); // 1000 bytes: within the budget
  REQUIRE(flight.get("m4", mid));
  CHECK(flight.kept() == 4); // m0 went
  REQUIRE(flight.get("m4", mid));
  REQUIRE(flight.get("m1", mid));
  CHECK(loads == 5);
  REQUIRE(flight.get("m0", mid));
  CHECK(loads == 6);
}

TEST_CASE("a kept page is used only within its time", "[page_flight]") {
  // keep below zero: nothing finished is ever reused, only loads in flight are shared.
  page_flight flight{{64, 1 << 20, std::chrono::milliseconds(-1)}};
  int loads = 0;
  auto load = [&]() -> caf::expected<event_page> {
    ++loads;
    return page_of("[]", 0);
  };
  REQUIRE(flight.get("k", load));
  REQUIRE(flight.get("k", load));
  CHECK(loads == 2);
  CHECK(flight.kept() == 1); // replaced, not added
}
