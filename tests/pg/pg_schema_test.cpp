// Schema migrations (repeated, concurrent, newer version) and DATABASE_URL checks.
#include <thread>
#include <vector>

#include "pg/pg_fixture.hpp"
#include "storage/pg_url.hpp"

using namespace ebuse;
using namespace ebuse::test;

TEST_CASE("pg schema: migrating again changes nothing") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  REQUIRE((*w)->apply(pg_group({pg_append(3)})));
  REQUIRE(!pg::migrate_schema(url));
  REQUIRE(!pg::migrate_schema(url));
  pg_reader r{url};
  CHECK(*r.max_position("t") == 3);
  auto c = pg::connection::open(url);
  REQUIRE(c);
  pg::params none;
  auto v = c->query("SELECT count(*)::int8, max(version)::int8 FROM ebuse.schema_version", none);
  REQUIRE(v);
  CHECK(v->get_int64(0, 0) == 1);
  CHECK(v->get_int64(0, 1) == pg::schema_version);
}

TEST_CASE("pg schema: nodes starting at once migrate one after the other") {
  auto url = shared_pg().create_database();
  constexpr int nodes = 6;
  std::vector<caf::error> errors(nodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < nodes; ++i)
    threads.emplace_back([&, i] { errors[static_cast<std::size_t>(i)] = pg::migrate_schema(url); });
  for (auto& t : threads)
    t.join();
  for (auto& err : errors) {
    INFO((err ? message_of(err) : ""));
    CHECK(!err);
  }
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  CHECK((*w)->apply(pg_group({pg_append(1)})));
}

TEST_CASE("pg schema: a newer schema is refused") {
  auto url = fresh_pg_database();
  auto c = pg::connection::open(url);
  REQUIRE(c);
  REQUIRE(!c->exec("UPDATE ebuse.schema_version SET version = 99"));
  auto err = pg::migrate_schema(url);
  CHECK(code_of(err) == errc::storage_unavailable);
  CHECK(message_of(err).find("version 99") != std::string::npos);
}

TEST_CASE("pg schema: a database not in UTF-8 is refused with the reason") {
  auto c = pg::connection::open(shared_pg().url());
  REQUIRE(c);
  REQUIRE(!c->exec("CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' "
                   "LC_COLLATE 'C' LC_CTYPE 'C'"));
  auto err = pg::migrate_schema(shared_pg().url("latin"));
  CHECK(code_of(err) == errc::storage_unavailable);
  CHECK(message_of(err).find("needs UTF8") != std::string::npos);
}

TEST_CASE("pg: DATABASE_URL is validated and its password never printed") {
  CHECK(pg::validate_database_url("postgresql://u:pw@db.example:5432/ev?sslmode=require"));
  CHECK(pg::validate_database_url("postgres://localhost/ev"));
  CHECK(pg::validate_database_url("postgresql:///ev?host=/run/postgresql"));
  for (const char* bad : {"", "mysql://x/y", "db.example:5432", "host=x dbname=y",
                          "postgresql://u:secret@h:notaport/db", "postgresql://h/db?nope=1",
                          "postgresql://h/d b", "postgresql://u:sec%zzret@h/db"}) {
    INFO(bad);
    auto res = pg::validate_database_url(bad);
    REQUIRE(!res);
    CHECK(code_of(res.error()) == errc::invalid_parameter);
    CHECK(message_of(res.error()).find("DATABASE_URL") == 0);
    CHECK(message_of(res.error()).find("sec") == std::string::npos);
  }
  CHECK(pg::redact_url("postgresql://u:pw@h:1/db?password=x&sslmode=y")
        == "postgresql://u:***@h:1/db?password=***&sslmode=y");
  CHECK(pg::redact_url("postgresql://u@h/db") == "postgresql://u@h/db");
}

TEST_CASE("pg: PostgreSQL down gives storage_unavailable naming the server") {
  pg_cluster cluster;
  auto url = cluster.url();
  cluster.stop();
  auto w = pg_writer::open("postgresql://ebuse:pw@127.0.0.1:" + std::to_string(cluster.port())
                             + "/postgres",
                           "t");
  REQUIRE(!w);
  CHECK(code_of(w.error()) == errc::storage_unavailable);
  auto msg = message_of(w.error());
  CHECK(msg.find("cannot connect to PostgreSQL at postgresql://ebuse:***@127.0.0.1:") == 0);
  CHECK(msg.find("pw") == std::string::npos);
  CHECK(code_of(pg::migrate_schema(url)) == errc::storage_unavailable);
  pg_reader r{url};
  CHECK(code_of(r.ping()) == errc::storage_unavailable);
}
