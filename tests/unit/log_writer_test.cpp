// log_writer::apply on SQLite: expected heads, idempotency keys and subscription writes of a group.
#include <catch2/catch.hpp>

#include "core/errc.hpp"
#include "storage/event_store.hpp"
#include "support/raw_sql.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using ebuse::test::raw_int;

namespace {

append_request events(int n, int64_t expected = -1) {
  append_request a;
  for (int i = 0; i < n; ++i)
    a.events.push_back(new_event{"t", std::to_string(i), "2024-01-01 00:00:00+00:00"});
  a.expected_head = expected;
  return a;
}

append_request keyed(std::string key, std::string body_hash, int64_t expected = -1) {
  auto a = events(1, expected);
  idempotency_claim c;
  c.key = std::move(key);
  c.body_sha256 = std::move(body_hash);
  c.render = [](const append_result& r) { return "first=" + std::to_string(r.first); };
  a.idempotency = std::move(c);
  return a;
}

int64_t count(const std::string& path, const char* table) {
  return raw_int(path, (std::string{"SELECT COUNT(*) FROM "} + table).c_str());
}

} // namespace

TEST_CASE("a conflict in the middle of a group writes nothing of that append only") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  log_writer& lw = **w;
  write_group g;
  g.appends.push_back(events(2, 0));   // head 0 -> 2
  g.appends.push_back(events(1, 0));   // expects 0, finds 2
  g.appends.push_back(events(3, 2));   // head 2 -> 5
  g.appends.push_back(events(1));      // unchecked: 6
  auto out = lw.apply(g);
  REQUIRE(out);
  REQUIRE(out->appends.size() == 4);
  CHECK(out->appends[0].status == append_status::applied);
  CHECK(out->appends[0].positions.first == 1);
  CHECK(out->appends[0].positions.last == 2);
  CHECK(out->appends[1].status == append_status::conflict);
  CHECK(out->appends[1].head == 2);
  CHECK(out->appends[2].status == append_status::applied);
  CHECK(out->appends[2].positions.first == 3);
  CHECK(out->appends[2].positions.last == 5);
  CHECK(out->appends[3].positions.first == 6);
  CHECK(out->head == 6);
  CHECK(lw.head() == 6);
  CHECK(count(path, "events") == 6);
}

TEST_CASE("idempotency keys replay, refuse reuse and survive reopening") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  {
    auto w = store_writer::open(path);
    REQUIRE(w);
    write_group g;
    g.appends.push_back(keyed("k1", "hash-a"));
    g.appends.push_back(keyed("k1", "hash-a")); // the same request again, same group
    g.appends.push_back(keyed("k1", "hash-b")); // the key with another body
    auto out = (*w)->apply(g);
    REQUIRE(out);
    CHECK(out->appends[0].status == append_status::applied);
    CHECK(out->appends[1].status == append_status::replayed);
    CHECK(out->appends[1].replay_body == "first=1");
    CHECK(out->appends[2].status == append_status::key_reused);
    CHECK(out->head == 1);
  }
  auto w = store_writer::open(path);
  REQUIRE(w);
  write_group g;
  g.appends.push_back(keyed("k1", "hash-a", 7)); // the head moved: still a replay
  g.appends.push_back(keyed("k1", "hash-c"));
  g.appends.push_back(keyed("k2", "hash-a"));
  auto out = (*w)->apply(g);
  REQUIRE(out);
  CHECK(out->appends[0].status == append_status::replayed);
  CHECK(out->appends[0].replay_status == 200);
  CHECK(out->appends[0].replay_body == "first=1");
  CHECK(out->appends[1].status == append_status::key_reused);
  CHECK(out->appends[2].status == append_status::applied);
  CHECK(out->appends[2].positions.first == 2);
  CHECK(count(path, "events") == 2);
  CHECK(count(path, "idempotency_keys") == 2);
}

TEST_CASE("an expired key is applied anew") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  store_options opts;
  opts.idempotency_ttl_ms = 0; // every stored key is already past its TTL
  auto w = store_writer::open(path, opts);
  REQUIRE(w);
  for (int i = 0; i < 2; ++i) {
    write_group g;
    g.appends.push_back(keyed("k", "hash"));
    auto out = (*w)->apply(g);
    REQUIRE(out);
    CHECK(out->appends[0].status == append_status::applied);
  }
  CHECK(count(path, "events") == 2);
  CHECK(count(path, "idempotency_keys") == 1);
}

TEST_CASE("subscription writes and deletes join the group") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  write_group g;
  g.subscriptions.push_back({"a", 5, false});
  g.subscriptions.push_back({"b", 7, false});
  REQUIRE((*w)->apply(g));
  g.subscriptions = {{"a", 0, true}, {"unknown", 0, true}};
  REQUIRE((*w)->apply(g));
  CHECK(raw_int(path, "SELECT COUNT(*) FROM subscriptions WHERE subscription_id = 'a'") == 0);
  CHECK(raw_int(path, "SELECT position FROM subscriptions WHERE subscription_id = 'b'") == 7);
}

TEST_CASE("a failing in-transaction step rolls the whole group back") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  write_group g;
  g.appends.push_back(keyed("k", "hash"));
  g.subscriptions.push_back({"s", 3, false});
  bool ran = false;
  auto out = (*w)->apply(g, [&ran] {
    ran = true;
    return make_error(errc::internal, "refused");
  });
  CHECK(ran);
  REQUIRE_FALSE(out);
  CHECK((*w)->head() == 0);
  CHECK(count(path, "events") == 0);
  CHECK(count(path, "idempotency_keys") == 0);
  CHECK(count(path, "subscriptions") == 0);
  // The same group applies afterwards: nothing of the failed one is left behind.
  auto again = (*w)->apply(g);
  REQUIRE(again);
  CHECK(again->appends[0].status == append_status::applied);
  CHECK(again->head == 1);
}
