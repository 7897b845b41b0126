// The open-tenant budget's choices: which idle tenants to stop, how many, and the default.
#include <catch2/catch.hpp>

#include "actors/open_budget.hpp"
#include "app/fd_limit.hpp"
#include "storage/event_store.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

TEST_CASE("the least recently used idle tenants are chosen, oldest first", "[open_budget]") {
  auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  std::vector<idle_tenant> idle = {
    {t0 + 5s, 0}, {t0 + 1s, 1}, {t0 + 9s, 2}, {t0 + 3s, 3}, {t0 + 1s, 4}};
  CHECK(least_recently_used(idle, 1) == std::vector<std::size_t>{1});
  // Ties keep the candidates' order.
  CHECK(least_recently_used(idle, 3) == std::vector<std::size_t>{1, 4, 3});
  CHECK(least_recently_used(idle, 10) == std::vector<std::size_t>{1, 4, 3, 0, 2});
  CHECK(least_recently_used(idle, 0).empty());
  CHECK(least_recently_used({}, 2).empty());
}

TEST_CASE("stops needed count the places that closing tenants will free", "[open_budget]") {
  // Under the limit: nothing to stop.
  CHECK(stops_needed(2, 3, 1, 0) == 0);
  // At the limit, one request waiting: one stop, unless one is closing already.
  CHECK(stops_needed(3, 3, 1, 0) == 1);
  CHECK(stops_needed(3, 3, 1, 1) == 0);
  // Three distinct tenants waiting, one place freeing.
  CHECK(stops_needed(3, 3, 3, 1) == 2);
  // No budget.
  CHECK(stops_needed(100, 0, 5, 0) == 0);
}

TEST_CASE("the default budget follows from the descriptor limit", "[open_budget][config]") {
  // 20,000 descriptors, 256 pooled readers: 5,000 for clients, 512 for readers, 256 spare.
  CHECK(open_tenant_budget(20000, 256) == (20000 - 5000 - 512 - 256) / descriptors_per_tenant);
  // A small limit still leaves clients their reserve and gives the floor.
  CHECK(open_tenant_budget(1024, 256) == 16);
  CHECK(open_tenant_budget(INT64_MAX, 256) == 1000000);
  // More readers, fewer tenants.
  CHECK(open_tenant_budget(20000, 2000) < open_tenant_budget(20000, 256));
}

TEST_CASE("the page-cache budget is shared over every connection", "[open_budget]") {
  store_options asked; // writer 64,000 KiB, reader 4,000 KiB
  // One tenant, 256 readers: the writer keeps what it asks, each reader gets 512 KiB.
  auto one = share_page_cache(asked, int64_t{256} << 20, 1, 256);
  CHECK(one.cache_size == asked.cache_size);
  CHECK(one.reader_cache_size == -512);
  // 1,000 open tenants: 128 MiB over 1,000 writers.
  auto many = share_page_cache(asked, int64_t{256} << 20, 1000, 256);
  CHECK(many.cache_size == -131);
  // Never below 64 KiB, never above what was asked (pages count 4 KiB each).
  auto tiny = share_page_cache(asked, 65536, 2, 256);
  CHECK(tiny.cache_size == -64);
  CHECK(tiny.reader_cache_size == -64);
  store_options pages;
  pages.cache_size = 10; // 40 KiB
  CHECK(share_page_cache(pages, int64_t{1} << 30, 1, 1).cache_size == -40);
  // No budget: unchanged.
  auto none = share_page_cache(asked, 0, 10000, 256);
  CHECK(none.cache_size == asked.cache_size);
  CHECK(none.reader_cache_size == asked.reader_cache_size);
}
