// Expired idempotency keys are swept: by the store in bounded steps, by the writer in the
// background from its start.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "core/timestamp.hpp"
#include "support/raw_sql.hpp"
#include "unit/actor_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

int64_t keys_left(const std::string& path, const char* where = "1") {
  return raw_int(path, std::string{"SELECT COUNT(*) FROM idempotency_keys WHERE "} + where);
}

// Keys created an hour ago (two) and now (one).
void insert_keys(const std::string& path) {
  auto now = ts::unix_now_ms();
  auto old = std::to_string(now - 3600 * 1000);
  raw_exec(path, "INSERT INTO idempotency_keys VALUES "
                 "('old-1', x'00', 200, '{}', " + old + "), "
                 "('old-2', x'00', 200, '{}', " + old + "), "
                 "('fresh', x'00', 200, '{}', " + std::to_string(now) + ")");
}

} // namespace

TEST_CASE_METHOD(fixture, "the store sweeps expired keys in bounded steps", "[idempotency]") {
  auto w = store_writer::open(opts.db_path);
  REQUIRE(w);
  insert_keys(opts.db_path);
  auto cutoff = ts::unix_now_ms() - 60 * 1000;
  auto first = (*w)->sweep_idempotency_keys(cutoff, 1);
  REQUIRE(first);
  CHECK(*first == 1);
  auto second = (*w)->sweep_idempotency_keys(cutoff, 10);
  REQUIRE(second);
  CHECK(*second == 1);
  auto third = (*w)->sweep_idempotency_keys(cutoff, 10);
  REQUIRE(third);
  CHECK(*third == 0);
  CHECK(keys_left(opts.db_path) == 1);
  CHECK(keys_left(opts.db_path, "key = 'fresh'") == 1);
}

TEST_CASE_METHOD(fixture, "the writer sweeps keys older than IDEMPOTENCY_TTL", "[idempotency]") {
  { REQUIRE(store_writer::open(opts.db_path)); }
  insert_keys(opts.db_path);
  opts.writer.idempotency_ttl = std::chrono::minutes(1);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  CHECK(eventually([&] { return (*t)->stats().keys_swept.load() == 2; }));
  CHECK(keys_left(opts.db_path) == 1);
  CHECK(keys_left(opts.db_path, "key = 'fresh'") == 1);
}
