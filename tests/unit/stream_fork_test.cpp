// Forks on real SQLite files: stitched reads, sub-offsets, chains, soft delete, cascades.
#include "unit/stream_store_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;
using ds::outcome;

TEST_CASE("a fork reads its source up to the fork point, then its own appends",
          "[stream_store][fork]") {
  stream_store_fixture f;
  auto a = f.create(make_create("src", "text/plain", "A"));
  f.append(make_append("src", "B"));
  auto fork = f.create(make_fork("fork", "src", a.tail));
  CHECK(fork.result == outcome::created);
  CHECK(fork.content_type == "text/plain"); // inherited
  CHECK(fork.tail == a.tail);
  CHECK(f.read("fork").payload == "A");
  f.append(make_append("fork", "C"));
  f.append(make_append("src", "D")); // after the fork: never seen by it
  CHECK(f.read("fork").payload == "AC");
  CHECK(f.read("src").payload == "ABD");
  CHECK(f.read_at("fork", a.tail).payload == "C");
  // Past the fork point each stream numbers its own appends: (2, 2) is the fork's
  // tail after C, and the source's position after B.
  CHECK(f.read_at("fork", {2, 2}).payload.empty());
  CHECK(f.read_at("src", {2, 2}).payload == "D");
  auto whole = f.create(make_fork("whole", "src")); // at the tail by default
  CHECK(f.read("whole").payload == "ABD");
  CHECK(f.create(make_fork("zero", "src", ds::offset{})).tail == ds::offset{});
  CHECK(f.read("zero").payload.empty());
}

TEST_CASE("fork creation refusals", "[stream_store][fork]") {
  stream_store_fixture f;
  f.create(make_create("src", "text/plain", "data"));
  CHECK(f.create(make_fork("x", "nope")).result == outcome::fork_source_not_found);
  CHECK(f.create(make_fork("x", "src", ds::offset{9, 99})).result == outcome::bad_fork_offset);
  CHECK(f.create(make_fork("x", "src", ds::offset{1, 3})).result == outcome::bad_fork_offset);
  auto json = make_fork("x", "src");
  json.content_type = "application/json";
  CHECK(f.create(json).result == outcome::content_type_mismatch);
  CHECK(f.create(make_fork("x", "src", ds::offset{}, 5)).result == outcome::bad_sub_offset);
  // None of the refused forks holds the source: deleting it removes it outright.
  CHECK(f.remove("src").result == outcome::deleted);
  CHECK(f.read("src").result == outcome::not_found);
}

TEST_CASE("sub-offsets take part of the next append", "[stream_store][fork]") {
  stream_store_fixture f;
  auto first = f.create(make_create("bin", "text/plain", "first"));
  f.append(make_append("bin", "second"));
  CHECK(f.create(make_fork("f1", "bin", ds::offset{}, 3)).result == outcome::created);
  CHECK(f.read("f1").payload == "fir");
  auto f2 = make_fork("f2", "bin", first.tail, 3);
  f2.body = ds::prepare_body("XY", false);
  CHECK(f.create(f2).result == outcome::created);
  CHECK(f.read("f2").payload == "firstsecXY");
  CHECK(f.create(make_fork("f3", "bin", first.tail, 6)).result == outcome::created);
  CHECK(f.read("f3").payload == "firstsecond");
  CHECK(f.create(make_fork("f4", "bin", first.tail, 7)).result == outcome::bad_sub_offset);
  f.create(make_create("js", "application/json", R"([{"a":1},{"b":2},{"c":3}])"));
  CHECK(f.create(make_fork("j2", "js", ds::offset{}, 2)).result == outcome::created);
  CHECK(f.read("j2").payload == R"([{"a":1},{"b":2}])");
  CHECK(f.create(make_fork("j4", "js", ds::offset{}, 4)).result == outcome::bad_sub_offset);
  // Idempotent re-creation compares the sub-offset as sent.
  CHECK(f.create(make_fork("j2", "js", ds::offset{}, 2)).result == outcome::exists);
  CHECK(f.create(make_fork("j2", "js", ds::offset{}, 1)).result == outcome::config_conflict);
}

TEST_CASE("fork chains compose, also across sub-offsets", "[stream_store][fork]") {
  stream_store_fixture f;
  f.create(make_create("l0", "text/plain", "abcdef"));
  f.create(make_fork("l1", "l0", ds::offset{}, 4));
  CHECK(f.read("l1").payload == "abcd");
  f.create(make_fork("l2", "l1", ds::offset{}, 2));
  f.append(make_append("l2", "Z"));
  CHECK(f.read("l2").payload == "abZ");
  f.create(make_create("x0", "text/plain", "X"));
  f.create(make_fork("x1", "x0"));
  f.append(make_append("x1", "Y"));
  f.create(make_fork("x2", "x1"));
  f.append(make_append("x2", "Z"));
  f.append(make_append("x0", "0"));
  f.append(make_append("x1", "1"));
  CHECK(f.read("x0").payload == "X0");
  CHECK(f.read("x1").payload == "XY1");
  CHECK(f.read("x2").payload == "XYZ");
}

TEST_CASE("producer state is not inherited by forks", "[stream_store][fork]") {
  stream_store_fixture f;
  f.create(make_create("src", "text/plain"));
  auto w = make_append("src", "hello");
  w.producer = ds::producer_request{"p", 0, 0};
  CHECK(f.append(w).result == outcome::appended);
  f.create(make_fork("fork", "src", ds::offset{}, 3));
  auto retry = make_append("fork", "LO");
  retry.producer = ds::producer_request{"p", 0, 0};
  CHECK(f.append(retry).result == outcome::appended);
  CHECK(f.read("fork").payload == "helLO");
}

TEST_CASE("deleting a source with forks soft-deletes it; the last fork cascades",
          "[stream_store][fork]") {
  stream_store_fixture f;
  f.create(make_create("l0", "text/plain", "A"));
  f.create(make_fork("l1", "l0"));
  f.append(make_append("l1", "B"));
  f.create(make_fork("l2", "l1"));
  f.append(make_append("l2", "C"));
  CHECK(f.remove("l1").result == outcome::deleted);
  CHECK(f.read("l1").result == outcome::gone);
  CHECK(f.remove("l1").result == outcome::gone);
  CHECK(f.append(make_append("l1", "x")).result == outcome::gone);
  CHECK(f.create(make_create("l1")).result == outcome::path_held_by_forks);
  CHECK(f.create(make_fork("other", "l1")).result == outcome::fork_source_gone);
  CHECK(f.read("l2").payload == "ABC"); // reads through the soft-deleted middle
  CHECK(f.remove("l0").result == outcome::deleted);
  CHECK(f.read("l0").result == outcome::gone);
  f.reopen();
  CHECK(f.read("l2").payload == "ABC");
  CHECK(f.remove("l2").result == outcome::deleted);
  CHECK(f.read("l2").result == outcome::not_found);
  CHECK(f.read("l1").result == outcome::not_found); // cascaded
  CHECK(f.read("l0").result == outcome::not_found);
  CHECK(f.create(make_create("l1")).result == outcome::created);
}

TEST_CASE("an expired source with forks is gone, not removed", "[stream_store][fork]") {
  stream_store_fixture f;
  auto src = make_create("src", "text/plain", "data");
  src.exp.ttl_seconds = 1;
  f.create(src, t0);
  auto fork = make_fork("fork", "src");
  fork.exp.ttl_seconds = 60;
  f.create(fork, t0);
  CHECK(f.read("src", {}, t0 + 1000).result == outcome::gone);
  CHECK(f.read("fork", {}, t0 + 1000).payload == "data");
  REQUIRE_FALSE(f.store().begin());
  REQUIRE(f.writer().expire(t0 + 1000));
  REQUIRE_FALSE(f.store().commit());
  CHECK(f.read("fork", {}, t0 + 1000).payload == "data");
  CHECK(f.remove("fork", t0 + 1000).result == outcome::deleted);
  CHECK(f.read("src", {}, t0 + 1000).result == outcome::not_found);
}

TEST_CASE("forks inherit the source's expiry unless they set their own",
          "[stream_store][fork]") {
  stream_store_fixture f;
  auto src = make_create("src");
  src.exp.ttl_seconds = 3600;
  f.create(src);
  CHECK(*f.create(make_fork("inherit", "src")).exp.ttl_seconds == 3600);
  auto own = make_fork("own", "src");
  own.exp.expires_at_ms = t0 + 99;
  auto r = f.create(own);
  CHECK_FALSE(r.exp.ttl_seconds);
  CHECK(*r.exp.expires_at_ms == t0 + 99);
  // A repeated fork create without expiry matches the inherited one.
  CHECK(f.create(make_fork("inherit", "src")).result == outcome::exists);
}

TEST_CASE("fork chains are bounded", "[stream_store][fork]") {
  stream_store_fixture f;
  f.create(make_create("s0"));
  std::size_t i = 1;
  for (; i < max_fork_depth; ++i)
    REQUIRE(f.create(make_fork("s" + std::to_string(i), "s" + std::to_string(i - 1))).result
            == outcome::created);
  CHECK(f.create(make_fork("s" + std::to_string(i), "s" + std::to_string(i - 1))).result
        == outcome::fork_too_deep);
}
