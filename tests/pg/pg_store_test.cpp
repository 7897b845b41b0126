// The PostgreSQL store against a real PostgreSQL 15: appends, reads, checks, subscriptions.
#include <thread>

#include "pg/pg_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

TEST_CASE("pg: appends get dense positions and read back as wire JSON") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "acme");
  REQUIRE(w);
  CHECK((*w)->head() == 0);
  auto out = (*w)->apply(pg_group({pg_append(1), pg_append(3)}));
  REQUIRE(out);
  REQUIRE(out->appends.size() == 2);
  CHECK(out->appends[0].status == append_status::applied);
  CHECK(out->appends[0].positions.first == 1);
  CHECK(out->appends[0].positions.last == 1);
  CHECK(out->appends[1].positions.first == 2);
  CHECK(out->appends[1].positions.last == 4);
  CHECK(out->head == 4);
  CHECK((*w)->head() == 4);
  pg_reader r{url};
  CHECK(pg_page(r, "acme", 2, 3)
        == R"([{"position":2,"type":"t","data":{"i":0},"timestamp":"2024-01-01T00:00:00Z"},)"
           R"({"position":3,"type":"t","data":{"i":1},"timestamp":"2024-01-01T00:00:00Z"}])");
  CHECK(*r.max_position("acme") == 4);
  CHECK(*r.max_position("nobody") == 0);
  CHECK(pg_page(r, "other") == "[]");
}
