// `ebuse migrate`: a tenant's SQLite file copied verbatim into PostgreSQL.
#include "pg/pg_fixture.hpp"
#include "storage/db.hpp"
#include "storage/pg_migrate.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

// A file as the original server (and ours) may have written it: odd number literals,
// unicode, both stored timestamp forms, a gap in positions, subscriptions.
std::string odd_file(const temp_dir& tmp, int filler) {
  auto path = tmp.file("tenant.db");
  REQUIRE(store_writer::open(path)); // creates the schema
  auto db = sql::connection::open(path, false);
  REQUIRE(db);
  REQUIRE(!db->exec(R"sql(
    INSERT INTO events (position, type, data, timestamp) VALUES
      (1, 'order.created', '{"total":1.10,"qty":1E+2,"id":123456789012345678901234567890}',
       '2024-05-06 07:08:09.123456789+02:00'),
      (2, 'été <&>', '{"name":"Zoë 😀","esc":"\u00e9\"\\","list":[1.0,-0,2e-3]}',
       '2024-05-06 07:08:09.1 +0200 CEST'),
      (3, 'go.string', '[]', '2023-12-31 23:59:59.999999999 +0000 UTC m=+12.000000001'),
      (5, 'after.gap', '{ "spaced" : true }', '2024-01-01 00:00:00+00:00');
    INSERT INTO subscriptions (subscription_id, position) VALUES
      ('billing', 3), ('été/consumer', 1), ('zero', 0);
  )sql"));
  auto st = db->prepare("INSERT INTO events (type, data, timestamp) VALUES ('fill', ?1, "
                        "'2024-02-29 12:00:00.5-07:30')");
  REQUIRE(st);
  for (int i = 0; i < filler; ++i) {
    std::string data = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(300, 'x') + "\"}";
    st->bind_blob(1, data);
    REQUIRE(st->step() == 101); // SQLITE_DONE
    st->reset();
  }
  return path;
}

std::string sqlite_page(const std::string& path) {
  auto r = store_reader::open(path);
  REQUIRE(r);
  event_page page;
  REQUIRE(!(*r)->load(1, -1, 100000, page));
  return "[" + page.json + "]";
}

} // namespace

TEST_CASE("pg migrate: a tenant is copied verbatim and reads back byte for byte") {
  temp_dir tmp;
  auto path = odd_file(tmp, 50);
  auto url = shared_pg().create_database(); // the migration creates the schema
  migrate_options opts;
  opts.chunk_rows = 7;
  auto report = migrate_tenant(path, url, "acme", opts);
  REQUIRE(report);
  CHECK(report->events == 54);
  CHECK(report->subscriptions == 3);
  CHECK(report->head == 55);
  pg_reader r{url};
  auto expected = sqlite_page(path);
  CHECK(pg_page(r, "acme") == expected);
  CHECK(expected.find("\"data\":{\"total\":1.10,\"qty\":1E+2,\"id\":123456789012345678901234567890}")
        != std::string::npos);
  CHECK(expected.find("\"timestamp\":\"2024-05-06T07:08:09.1+02:00\"") != std::string::npos);
  CHECK(*r.max_position("acme") == 55);
  using entry = std::pair<std::string, int64_t>;
  CHECK(*r.subscriptions("acme")
        == std::vector<entry>{{"billing", 3}, {"zero", 0}, {"été/consumer", 1}});
  // Appends go on after the copied head.
  auto w = pg_writer::open(url, "acme");
  REQUIRE(w);
  auto out = (*w)->apply(pg_group({pg_append(1)}));
  REQUIRE(out);
  CHECK(out->appends[0].positions.first == 56);
}

TEST_CASE("pg migrate: a non-empty target is refused and left as it was") {
  temp_dir tmp;
  auto path = odd_file(tmp, 0);
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "acme");
  REQUIRE(w);
  write_group g;
  g.subscriptions = {{"only-a-subscription", 1, false}};
  REQUIRE((*w)->apply(g));
  auto report = migrate_tenant(path, url, "acme");
  REQUIRE(!report);
  CHECK(code_of(report.error()) == errc::invalid_parameter);
  CHECK(message_of(report.error()).find("already has") != std::string::npos);
  pg_reader r{url};
  CHECK(pg_page(r, "acme") == "[]");
  CHECK(r.subscriptions("acme")->size() == 1);
  // Another tenant of the same database is empty: copied. A second copy is refused.
  REQUIRE(migrate_tenant(path, url, "other"));
  CHECK(!migrate_tenant(path, url, "other"));
  CHECK(pg_page(r, "other") == sqlite_page(path));
}

TEST_CASE("pg migrate: bad inputs fail with the reason and write nothing") {
  temp_dir tmp;
  auto url = fresh_pg_database();
  auto missing = migrate_tenant(tmp.file("missing.db"), url, "acme");
  REQUIRE(!missing);
  CHECK(code_of(missing.error()) == errc::storage_unavailable);
  auto bad_name = migrate_tenant(tmp.file("missing.db"), url, "no spaces");
  REQUIRE(!bad_name);
  CHECK(code_of(bad_name.error()) == errc::invalid_parameter);
  // A row PostgreSQL text cannot hold (NUL in a type) aborts the whole copy.
  auto path = odd_file(tmp, 3);
  auto db = sql::connection::open(path, false);
  REQUIRE(db);
  REQUIRE(!db->exec("INSERT INTO events (type, data, timestamp) VALUES "
                    "(CAST(X'610062' AS TEXT), '1', '2024-01-01 00:00:00+00:00')"));
  auto report = migrate_tenant(path, url, "acme");
  REQUIRE(!report);
  CHECK(code_of(report.error()) == errc::invalid_event);
  pg_reader r{url};
  CHECK(pg_page(r, "acme") == "[]");
  CHECK(*r.max_position("acme") == 0);
  // After the failure the tenant is still empty, so a fixed file can be copied.
  REQUIRE(!db->exec("DELETE FROM events WHERE type = CAST(X'610062' AS TEXT)"));
  CHECK(migrate_tenant(path, url, "acme"));
}

TEST_CASE("pg migrate: the ebuse migrate command copies, reports and refuses a second copy") {
  using namespace std::chrono_literals;
  temp_dir tmp;
  auto path = odd_file(tmp, 20);
  auto url = shared_pg().create_database();
  {
    child_process cmd{{"migrate", "--from", path, "--to", url, "--tenant", "acme"}, {}};
    REQUIRE(cmd.started());
    REQUIRE(cmd.wait_exit(60s) == 0);
    CHECK(cmd.drain_stdout()
          == "{\"tenant\":\"acme\",\"events\":24,\"subscriptions\":3,\"head\":25}\n");
  }
  pg_reader r{url};
  CHECK(pg_page(r, "acme") == sqlite_page(path));
  {
    // DATABASE_URL stands in for --to; the tenant is not empty any more: refused, exit 1.
    child_process cmd{{"migrate", "--from", path, "--tenant", "acme"}, {{"DATABASE_URL", url}}};
    REQUIRE(cmd.wait_exit(60s) == 1);
    CHECK(cmd.drain_stdout().empty());
    CHECK(cmd.drain_stderr().find("already has") != std::string::npos);
  }
  CHECK(*r.max_position("acme") == 25);
}

TEST_CASE("pg migrate: misuse of the command exits 2 and says what is missing") {
  using namespace std::chrono_literals;
  struct misuse_case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<misuse_case>{
         {{"migrate"}, "are required"},
         {{"migrate", "--from", "a.db", "--tenant", "t"}, "are required"},
         {{"migrate", "--from"}, "--from needs a value"},
         {{"migrate", "--bogus", "x"}, "unknown argument: --bogus"},
         {{"migrate", "--from", "a.db", "--tenant", "t", "--to", "mysql://x"}, "--to:"},
       }) {
    child_process cmd{c.args, {}};
    INFO(c.says);
    REQUIRE(cmd.wait_exit(30s) == 2);
    CHECK(cmd.drain_stderr().find(c.says) != std::string::npos);
  }
}
