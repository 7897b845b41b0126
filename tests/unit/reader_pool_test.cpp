// The process-wide reader pool: reuse, LRU closing beyond its maximum, a file's close.
#include <catch2/catch.hpp>

#include <vector>

#include "storage/event_store.hpp"
#include "storage/reader_pool.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;

namespace {

// Creates (and migrates) a tenant file.
std::string make_file(test::temp_dir& dir, const std::string& name) {
  auto path = dir.file(name);
  auto w = store_writer::open(path, {});
  REQUIRE(w);
  return path;
}

} // namespace

TEST_CASE("a released connection is reused for its own file", "[reader_pool][sqlite]") {
  test::temp_dir dir;
  auto a = make_file(dir, "a.db");
  reader_pool pool{4};
  auto c = pool.acquire(a, {});
  REQUIRE(c);
  auto* raw = c->get();
  pool.release(a, std::move(*c));
  auto again = pool.acquire(a, {});
  REQUIRE(again);
  CHECK(again->get() == raw);
  CHECK(pool.hits() == 1);
  CHECK(pool.opens() == 1);
  CHECK(pool.open() == 1);
  pool.release(a, std::move(*again));
}

TEST_CASE("beyond its maximum the least recently used idle connections close",
          "[reader_pool][sqlite]") {
  test::temp_dir dir;
  std::vector<std::string> files;
  for (int i = 0; i < 4; ++i)
    files.push_back(make_file(dir, "t" + std::to_string(i) + ".db"));
  reader_pool pool{2};
  // t0, then t1 given back: t0 is the least recently used.
  for (int i = 0; i < 2; ++i) {
    auto c = pool.acquire(files[i], {});
    REQUIRE(c);
    pool.release(files[i], std::move(*c));
  }
  CHECK(pool.open() == 2);
  // Touch t0 again: now t1 is the oldest.
  {
    auto c = pool.acquire(files[0], {});
    REQUIRE(c);
    pool.release(files[0], std::move(*c));
  }
  auto c2 = pool.acquire(files[2], {});
  REQUIRE(c2);
  CHECK(pool.evictions() == 1);
  CHECK(pool.open() == 2);
  pool.release(files[2], std::move(*c2));
  // t0 is still idle in the pool (a hit), t1 was closed (an open).
  auto opens = pool.opens();
  auto hits = pool.hits();
  {
    auto c = pool.acquire(files[0], {});
    REQUIRE(c);
    pool.release(files[0], std::move(*c));
  }
  CHECK(pool.hits() == hits + 1);
  CHECK(pool.opens() == opens);
  {
    auto c = pool.acquire(files[1], {});
    REQUIRE(c);
    pool.release(files[1], std::move(*c));
  }
  CHECK(pool.opens() == opens + 1);
  CHECK(pool.open() == 2);
}

TEST_CASE("connections in use are never closed, only counted", "[reader_pool][sqlite]") {
  test::temp_dir dir;
  auto a = make_file(dir, "a.db");
  auto b = make_file(dir, "b.db");
  reader_pool pool{1};
  auto ca = pool.acquire(a, {});
  auto cb = pool.acquire(b, {});
  REQUIRE(ca);
  REQUIRE(cb);
  CHECK(pool.open() == 2);
  CHECK(pool.evictions() == 0);
  pool.release(a, std::move(*ca));
  // Back over the maximum: the idle one just given back closes.
  CHECK(pool.open() == 1);
  CHECK(pool.evictions() == 1);
  pool.release(b, std::move(*cb));
  CHECK(pool.open() == 1);
}

TEST_CASE("closing a file closes its idle connections and no other",
          "[reader_pool][sqlite]") {
  test::temp_dir dir;
  auto a = make_file(dir, "a.db");
  auto b = make_file(dir, "b.db");
  reader_pool pool{8};
  auto a1 = pool.acquire(a, {});
  auto a2 = pool.acquire(a, {});
  auto b1 = pool.acquire(b, {});
  REQUIRE(a1);
  REQUIRE(a2);
  REQUIRE(b1);
  pool.release(a, std::move(*a1));
  pool.release(a, std::move(*a2));
  pool.release(b, std::move(*b1));
  CHECK(pool.open() == 3);
  pool.close_file(a);
  CHECK(pool.open() == 1);
  auto hits = pool.hits();
  auto again = pool.acquire(b, {});
  REQUIRE(again);
  CHECK(pool.hits() == hits + 1);
  pool.release(b, std::move(*again));
}

TEST_CASE("a broken connection is closed when given back", "[reader_pool][sqlite]") {
  test::temp_dir dir;
  auto a = make_file(dir, "a.db");
  reader_pool pool{4};
  auto c = pool.acquire(a, {});
  REQUIRE(c);
  (*c)->broken = true;
  pool.release(a, std::move(*c));
  CHECK(pool.open() == 0);
  auto again = pool.acquire(a, {});
  REQUIRE(again);
  CHECK(pool.opens() == 2);
  pool.release(a, std::move(*again));
}
