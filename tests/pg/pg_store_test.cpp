// The PostgreSQL store against a real PostgreSQL 15: appends, reads, checks, subscriptions.
#include <thread>

#include "pg/pg_fixture.hpp"
#include "support/store_rows.hpp"
#include "support/temp_dir.hpp"

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

TEST_CASE("pg: data, types and timestamps read back byte for byte as the SQLite reader's") {
  std::vector<new_event> events = {
    pg_event("num", R"({"a":1.10,"b":1E+2,"c":123456789012345678901234567890,"d":-0.0})"),
    pg_event("été <&> \"q\"", R"({"s":"été 😀 \u00e9 \" \\ \u0000","k":[true,null,{}]})",
             "2024-05-06 07:08:09.123456789+02:00"),
    pg_event("go-string", "[1,2,3]", "2024-05-06 07:08:09.1 +0200 CEST"),
    pg_event("monotonic", "\"text\"", "2023-12-31 23:59:59.999999999 +0000 UTC m=+0.000000001"),
    pg_event("garbage-ts", "null", "not a time"),
    pg_event("neg", "-1", "2024-02-29 12:00:00-07:30"),
  };
  temp_dir tmp;
  auto sw = store_writer::open(tmp.file("ref.db"));
  REQUIRE(sw);
  REQUIRE(!(*sw)->begin());
  REQUIRE(insert_events(**sw, events));
  REQUIRE(!(*sw)->commit());
  auto sr = store_reader::open(tmp.file("ref.db"));
  REQUIRE(sr);
  event_page ref;
  REQUIRE(!(*sr)->load(1, -1, 100, ref));

  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  append_request a;
  a.events = events;
  REQUIRE((*w)->apply(pg_group({a})));
  pg_reader r{url};
  event_page page;
  REQUIRE(!r.load("t", 1, -1, 100, page));
  CHECK(page.json == ref.json);
  CHECK(page.count == 6);
  CHECK(page.last_position == 6);
}

TEST_CASE("pg: expected heads are checked in order inside the group") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  // 0 matches the empty log; the second append then sees head 2, not 0.
  auto out = (*w)->apply(pg_group({pg_append(2, "a", 0), pg_append(1, "b", 0),
                                   pg_append(1, "c", 2), pg_append(1, "d")}));
  REQUIRE(out);
  CHECK(out->appends[0].status == append_status::applied);
  CHECK(out->appends[1].status == append_status::conflict);
  CHECK(out->appends[1].head == 2);
  CHECK(out->appends[2].status == append_status::applied);
  CHECK(out->appends[2].positions.first == 3);
  CHECK(out->appends[3].positions.first == 4);
  CHECK(out->head == 4);
  // A group of conflicts only writes nothing and keeps the head.
  out = (*w)->apply(pg_group({pg_append(1, "e", 3)}));
  REQUIRE(out);
  CHECK(out->appends[0].status == append_status::conflict);
  CHECK(out->appends[0].head == 4);
  CHECK(out->head == 4);
  pg_reader r{url};
  CHECK(*r.max_position("t") == 4);
  CHECK(pg_page(r, "t").find("\"type\":\"b\"") == std::string::npos);
}

namespace {

append_request keyed(const std::string& key, const std::string& sha, int n = 1) {
  auto a = pg_append(n);
  a.idempotency = idempotency_claim{key, sha, 200, [](const append_result& p) {
                                      return "{\"first\":" + std::to_string(p.first) + "}";
                                    }};
  return a;
}

} // namespace

TEST_CASE("pg: idempotency keys replay the stored response and refuse another body") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  std::string sha1(32, '\x01'), sha2(32, '\x02');
  sha1[5] = '\0'; // binary digests: any byte
  auto out = (*w)->apply(pg_group({pg_append(1), keyed("k1", sha1, 2), keyed("k1", sha1),
                                   keyed("k1", sha2)}));
  REQUIRE(out);
  CHECK(out->appends[1].status == append_status::applied);
  CHECK(out->appends[1].positions.first == 2);
  CHECK(out->appends[2].status == append_status::replayed); // in the same group
  CHECK(out->appends[2].replay_body == "{\"first\":2}");
  CHECK(out->appends[3].status == append_status::key_reused);
  CHECK(out->head == 3);
  // A later group, from another writer (another node), sees the committed key.
  auto w2 = pg_writer::open(url, "t");
  REQUIRE(w2);
  out = (*w2)->apply(pg_group({keyed("k1", sha1), keyed("k1", sha2), keyed("k2", sha2)}));
  REQUIRE(out);
  CHECK(out->appends[0].status == append_status::replayed);
  CHECK(out->appends[0].replay_status == 200);
  CHECK(out->appends[0].replay_body == "{\"first\":2}");
  CHECK(out->appends[1].status == append_status::key_reused);
  CHECK(out->appends[2].status == append_status::applied);
  CHECK(out->appends[2].positions.first == 4);
  // Keys are per tenant.
  auto other = pg_writer::open(url, "u");
  REQUIRE(other);
  out = (*other)->apply(pg_group({keyed("k1", sha2)}));
  REQUIRE(out);
  CHECK(out->appends[0].status == append_status::applied);
}

TEST_CASE("pg: expired idempotency keys are ignored and swept") {
  auto url = fresh_pg_database();
  pg_options opts;
  opts.idempotency_ttl = std::chrono::seconds(3600);
  auto w = pg_writer::open(url, "t", opts);
  REQUIRE(w);
  std::string sha(32, 'a');
  REQUIRE((*w)->apply(pg_group({keyed("old", sha), keyed("new", sha)})));
  // Age one key past the TTL.
  auto c = pg::connection::open(url);
  REQUIRE(c);
  REQUIRE(!c->exec("UPDATE ebuse.idempotency_keys SET created_at = now() - interval '2 hours' "
                   "WHERE key = 'old'"));
  auto out = (*w)->apply(pg_group({keyed("old", std::string(32, 'b')), keyed("new", sha)}));
  REQUIRE(out);
  CHECK(out->appends[0].status == append_status::applied); // expired: a new use
  CHECK(out->appends[1].status == append_status::replayed);
  REQUIRE(!c->exec("UPDATE ebuse.idempotency_keys SET created_at = now() - interval '2 hours' "
                   "WHERE key = 'new'"));
  pg_reader r{url};
  auto swept = r.sweep_idempotency_keys(std::chrono::seconds(3600));
  REQUIRE(swept);
  CHECK(*swept == 1);
}

TEST_CASE("pg: the tenant writer's sweep deletes its own expired keys, oldest first, bounded") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  auto other = pg_writer::open(url, "u");
  REQUIRE(w);
  REQUIRE(other);
  std::string sha(32, 'a');
  REQUIRE((*w)->apply(pg_group({keyed("k1", sha), keyed("k2", sha), keyed("k3", sha)})));
  REQUIRE((*other)->apply(pg_group({keyed("k1", sha)})));
  auto c = pg::connection::open(url);
  REQUIRE(c);
  REQUIRE(!c->exec("UPDATE ebuse.idempotency_keys SET created_at = now() - interval '3 hours' "
                   "WHERE key = 'k1'"));
  REQUIRE(!c->exec("UPDATE ebuse.idempotency_keys SET created_at = now() - interval '2 hours' "
                   "WHERE key = 'k2' AND tenant = 't'"));
  auto hour_ago = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count()
                  - 3600 * 1000;
  auto swept = (*w)->sweep_idempotency_keys(hour_ago, 1);
  REQUIRE(swept);
  CHECK(*swept == 1); // the bound
  auto left = [&](const char* tenant) {
    pg::params p;
    p.text(tenant);
    auto res = c->query("SELECT string_agg(key, ',' ORDER BY key) FROM ebuse.idempotency_keys "
                        "WHERE tenant = $1::text",
                        p, false);
    return res ? std::string{res->get(0, 0)} : std::string{"?"};
  };
  CHECK(left("t") == "k2,k3"); // the oldest went first
  swept = (*w)->sweep_idempotency_keys(hour_ago, 100);
  REQUIRE(swept);
  CHECK(*swept == 1);
  CHECK(left("t") == "k3");
  CHECK(left("u") == "k1"); // another tenant's keys are its own writer's
}

TEST_CASE("pg: subscriptions are saved, listed in byte order and removed") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  write_group g;
  g.subscriptions = {{"b", 5, false}, {"été", 7, false}, {"a", 1, false}, {"a", 3, false}};
  REQUIRE((*w)->apply(g));
  pg_reader r{url};
  auto subs = r.subscriptions("t");
  REQUIRE(subs);
  using entry = std::pair<std::string, int64_t>;
  CHECK(*subs == std::vector<entry>{{"a", 3}, {"b", 5}, {"été", 7}});
  auto page = r.subscriptions_page("t", "a", 1);
  REQUIRE(page);
  REQUIRE(page->size() == 1);
  CHECK((*page)[0].id == "b");
  CHECK((*page)[0].updated_at_us > 1700000000000000);
  g.subscriptions = {{"b", 0, true}};
  REQUIRE((*w)->apply(g));
  CHECK(*r.subscriptions("t") == std::vector<entry>{{"a", 3}, {"été", 7}});
  CHECK(r.subscriptions("u")->empty());
}

TEST_CASE("pg: a write PostgreSQL cannot store fails alone, cleanly") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  REQUIRE((*w)->apply(pg_group({pg_append(2)})));
  // A type holding NUL (a JSON "\u0000" decoded) cannot be PostgreSQL text.
  auto bad = pg_append(1);
  bad.events[0].type = std::string("a\0b", 3);
  auto out = (*w)->apply(pg_group({pg_append(1), bad}));
  REQUIRE(!out);
  CHECK(code_of(out.error()) == errc::invalid_event);
  // Nothing of the group was written, and the writer goes on.
  out = (*w)->apply(pg_group({pg_append(1)}));
  REQUIRE(out);
  CHECK(out->appends[0].positions.first == 3);
}

TEST_CASE("pg: a large group is inserted in chunks, in order") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  auto out = (*w)->apply(pg_group({pg_append(1000), pg_append(73), pg_append(9)}));
  REQUIRE(out);
  CHECK(out->head == 1082);
  pg_reader r{url};
  event_page page;
  REQUIRE(!r.load("t", 1, -1, 5000, page));
  CHECK(page.count == 1082);
  // Positions 1..1000 hold i = 0..999 in order, then the next appends.
  CHECK(pg_page(r, "t", 1000, 1001)
        == R"([{"position":1000,"type":"t","data":{"i":999},"timestamp":"2024-01-01T00:00:00Z"},)"
           R"({"position":1001,"type":"t","data":{"i":0},"timestamp":"2024-01-01T00:00:00Z"}])");
  CHECK(pg_page(r, "t", 1073, 1074).find("\"position\":1074,\"type\":\"t\",\"data\":{\"i\":0}")
        != std::string::npos);
  event_page limited;
  REQUIRE(!r.load("t", 10, 20, 5, limited));
  CHECK(limited.count == 5);
  CHECK(limited.last_position == 14);
}

TEST_CASE("pg: a head row deleted by hand is made again from the events") {
  auto url = fresh_pg_database();
  auto w = pg_writer::open(url, "t");
  REQUIRE(w);
  REQUIRE((*w)->apply(pg_group({pg_append(3)})));
  auto c = pg::connection::open(url);
  REQUIRE(c);
  REQUIRE(!c->exec("DELETE FROM ebuse.heads"));
  auto out = (*w)->apply(pg_group({pg_append(1)}));
  REQUIRE(!out);
  CHECK(code_of(out.error()) == errc::internal);
  out = (*w)->apply(pg_group({pg_append(1)}));
  REQUIRE(out);
  CHECK(out->appends[0].positions.first == 4);
}
