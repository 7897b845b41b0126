// The RAII SQLite wrappers: a bind that fails fails its statement.
#include <catch2/catch.hpp>

#include <string>

#include <sqlite3.h>

#include "core/errc.hpp"
#include "storage/db.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;

namespace {

int64_t count_rows(sql::connection& db) {
  auto n = db.query_int64("SELECT COUNT(*) FROM t");
  REQUIRE(n);
  return *n;
}

} // namespace

TEST_CASE("a failed bind fails the step instead of writing NULL") {
  test::temp_dir dir;
  auto db = sql::connection::open(dir.file("t.db"), false);
  REQUIRE(db);
  REQUIRE_FALSE(db->exec("CREATE TABLE t (x TEXT, y INTEGER)"));
  // Values longer than this are refused by sqlite3_bind_* with SQLITE_TOOBIG.
  sqlite3_limit(db->get(), SQLITE_LIMIT_LENGTH, 100);
  auto st = db->prepare("INSERT INTO t (x, y) VALUES (?1, ?2)");
  REQUIRE(st);
  const std::string big(200, 'x');

  CHECK(st->bind_text(1, big) == SQLITE_TOOBIG);
  CHECK(st->bind_int64(2, 7) == SQLITE_OK);
  CHECK(st->step() == SQLITE_TOOBIG);
  st->reset();
  CHECK(count_rows(*db) == 0);

  CHECK(st->bind_blob(1, big) == SQLITE_TOOBIG);
  CHECK(st->step() == SQLITE_TOOBIG);
  st->reset();
  CHECK(count_rows(*db) == 0);

  // A reset clears the failure: the statement is usable again.
  CHECK(st->bind_text(1, "ok") == SQLITE_OK);
  CHECK(st->bind_int64(2, 1) == SQLITE_OK);
  CHECK(st->step() == SQLITE_DONE);
  st->reset();
  CHECK(count_rows(*db) == 1);
  auto err = db->error_from(SQLITE_TOOBIG, "insert");
  CHECK(code_of(err) == errc::internal);
}
