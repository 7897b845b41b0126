// Stream storage on real SQLite files: appends, reads, closure, producers, persistence.
#include "unit/stream_store_fixture.hpp"

#include <sqlite3.h>

using namespace ebuse;
using namespace ebuse::test;
using ds::outcome;

namespace {

ds::offset_spec at(ds::offset o) {
  return {ds::offset_kind::at, o};
}

} // namespace

TEST_CASE("byte streams: create, append, read from any returned offset", "[stream_store]") {
  stream_store_fixture f;
  auto c = f.create(make_create("a", "text/plain", "first"));
  CHECK(c.result == outcome::created);
  CHECK(c.tail == ds::offset{1, 5});
  auto a = f.append(make_append("a", "second"));
  CHECK(a.result == outcome::appended);
  CHECK(a.tail == ds::offset{2, 11});
  CHECK(a.changed);
  auto all = f.read("a");
  CHECK(all.result == outcome::ok);
  CHECK(all.payload == "firstsecond");
  CHECK(all.next == ds::offset{2, 11});
  CHECK(all.up_to_date);
  CHECK(all.appends == 2);
  CHECK(f.read_at("a", c.tail).payload == "second");
  auto tail = f.read_at("a", a.tail);
  CHECK(tail.payload.empty());
  CHECK(tail.up_to_date);
  CHECK(tail.next == a.tail);
  CHECK(f.read("a", {ds::offset_kind::now, {}}).next == a.tail);
  CHECK(f.read("missing").result == outcome::not_found);
}

TEST_CASE("offsets that are not positions of the stream are refused", "[stream_store]") {
  stream_store_fixture f;
  f.create(make_create("a", "text/plain", "abc"));
  f.append(make_append("a", "de"));
  CHECK(f.read_at("a", {0, 0}).payload == "abcde");
  CHECK(f.read_at("a", {1, 3}).payload == "de");
  CHECK(f.read_at("a", {1, 2}).result == outcome::bad_offset);  // inside an append
  CHECK(f.read_at("a", {3, 5}).result == outcome::bad_offset);  // past the tail
  CHECK(f.read_at("a", {2, 6}).result == outcome::bad_offset);
  CHECK(f.read_at("a", {9999999999999999, 9999999999999999}).result == outcome::bad_offset);
}

TEST_CASE("binary data comes back byte for byte", "[stream_store]") {
  stream_store_fixture f;
  std::string bytes;
  for (int i = 0; i < 256; ++i)
    bytes.push_back(static_cast<char>(i));
  f.create(make_create("bin", "application/octet-stream"));
  f.append(make_append("bin", bytes, "application/octet-stream"));
  f.append(make_append("bin", std::string("\0\0", 2), "application/octet-stream"));
  CHECK(f.read("bin").payload == bytes + std::string("\0\0", 2));
}

TEST_CASE("JSON streams store messages and read as one array", "[stream_store]") {
  stream_store_fixture f;
  CHECK(f.create(make_create("j", "application/json", "[]")).tail == ds::offset{});
  CHECK(f.read("j").payload == "[]");
  f.append(make_append("j", R"([{"a": 1}, {"b": 2}])", "application/json"));
  f.append(make_append("j", "[[1, 2]]", "application/json"));
  f.append(make_append("j", "42", "application/json"));
  auto r = f.read("j");
  CHECK(r.payload == R"([{"a":1},{"b":2},[1,2],42])");
  CHECK(r.appends == 3);
  CHECK(f.append(make_append("j", "[]", "application/json")).result
        == outcome::empty_json_array);
  CHECK(f.append(make_append("j", "{", "application/json")).result == outcome::invalid_json);
  CHECK(f.read("j").payload == R"([{"a":1},{"b":2},[1,2],42])"); // nothing written
}

TEST_CASE("reads stop at their budget and continue from the next offset", "[stream_store]") {
  stream_store_fixture f;
  f.create(make_create("a"));
  for (int i = 0; i < 10; ++i)
    f.append(make_append("a", "0123456789"));
  auto first = f.read("a", {}, t0, 3);
  CHECK(first.payload.size() == 30);
  CHECK_FALSE(first.up_to_date);
  CHECK(first.next == ds::offset{3, 30});
  auto by_bytes = f.read("a", at(first.next), t0, 100, 25);
  CHECK(by_bytes.payload.size() == 30); // whole appends: the third reaches 25 bytes
  CHECK(by_bytes.next == ds::offset{6, 60});
  auto one = f.read("a", at(by_bytes.next), t0, 100, 1);
  CHECK(one.payload.size() == 10); // at least one append whatever the budget
  auto rest = f.read("a", at(one.next));
  CHECK(rest.payload.size() == 30);
  CHECK(rest.up_to_date);
}

TEST_CASE("an identical create is confirmed, another one conflicts", "[stream_store]") {
  stream_store_fixture f;
  auto req = make_create("a", "text/plain");
  req.exp.ttl_seconds = 3600;
  CHECK(f.create(req).result == outcome::created);
  CHECK(f.create(req).result == outcome::exists);
  auto upper = req;
  upper.content_type = "TEXT/PLAIN";
  CHECK(f.create(upper).result == outcome::exists);
  auto other = req;
  other.exp.ttl_seconds = 7200;
  CHECK(f.create(other).result == outcome::config_conflict);
  auto closing = make_create("a", "text/plain");
  closing.closed = true;
  closing.exp = req.exp;
  CHECK(f.create(closing).result == outcome::config_conflict);
  auto plain = make_create("b", "");
  auto created = f.create(plain);
  CHECK(created.content_type == "application/octet-stream");
}

TEST_CASE("closing: final append, idempotent close, appends refused", "[stream_store]") {
  stream_store_fixture f;
  f.create(make_create("a", "text/plain", "x"));
  auto last = make_append("a", "y");
  last.close = true;
  auto r = f.append(last);
  CHECK(r.result == outcome::appended);
  CHECK(r.closed);
  auto again = f.append(make_append("a", "z"));
  CHECK(again.result == outcome::stream_closed);
  CHECK(again.tail == ds::offset{2, 2});
  auto close_only = make_append("a", "", "");
  close_only.close = true;
  CHECK(f.append(close_only).result == outcome::closed);
  auto read = f.read("a");
  CHECK(read.payload == "xy");
  CHECK(read.meta.closed);
}

TEST_CASE("state survives a restart: data, closure, Stream-Seq, producers",
          "[stream_store]") {
  stream_store_fixture f;
  f.create(make_create("a", "text/plain"));
  auto req = make_append("a", "one");
  req.stream_seq = "005";
  req.producer = ds::producer_request{"p", 0, 0};
  CHECK(f.append(req).result == outcome::appended);
  f.reopen();
  CHECK(f.read("a").payload == "one");
  auto retry = f.append(req); // the same producer tuple: a duplicate, nothing written
  CHECK(retry.result == outcome::duplicate);
  auto lower = make_append("a", "two");
  lower.stream_seq = "004";
  CHECK(f.append(lower).result == outcome::stream_seq_conflict);
  auto next = make_append("a", "two");
  next.producer = ds::producer_request{"p", 0, 1};
  next.close = true;
  CHECK(f.append(next).result == outcome::appended);
  f.reopen();
  auto r = f.read("a");
  CHECK(r.payload == "onetwo");
  CHECK(r.meta.closed);
  CHECK(f.append(next).result == outcome::duplicate); // the tuple that closed it
}

TEST_CASE("a rolled-back group leaves neither data nor producer state", "[stream_store]") {
  stream_store_fixture f;
  f.create(make_create("a"));
  REQUIRE_FALSE(f.store().begin());
  auto req = make_append("a", "lost");
  req.producer = ds::producer_request{"p", 0, 0};
  auto res = f.writer().append(req, t0);
  REQUIRE(res);
  CHECK(res->result == outcome::appended);
  f.store().rollback();
  CHECK(f.read("a").payload.empty());
  CHECK(f.append(req).result == outcome::appended); // not a duplicate: state rolled back
  CHECK(f.read("a").payload == "lost");
}

TEST_CASE("a deleted stream is gone; its path starts a new stream", "[stream_store]") {
  stream_store_fixture f;
  auto old = f.create(make_create("a", "text/plain", "old data"));
  auto del = f.remove("a");
  CHECK(del.result == outcome::deleted);
  CHECK(f.remove("a").result == outcome::not_found);
  CHECK(f.read("a").result == outcome::not_found);
  CHECK(f.append(make_append("a", "x")).result == outcome::not_found);
  auto fresh = f.create(make_create("a", "text/plain", "new"));
  CHECK(fresh.result == outcome::created);
  CHECK(fresh.stream_id != old.stream_id);
  CHECK(f.read("a").payload == "new");
}

TEST_CASE("TTL and Expires-At: expired streams are absent, then swept", "[stream_store]") {
  stream_store_fixture f;
  auto ttl = make_create("t");
  ttl.exp.ttl_seconds = 2;
  f.create(ttl, t0);
  auto fixed = make_create("e");
  fixed.exp.expires_at_ms = t0 + 4000;
  f.create(fixed, t0);
  CHECK(f.writer().may_expire());
  // A write at +1.5 s slides the TTL; a read's touch does too.
  CHECK(f.append(make_append("t", "x"), t0 + 1500).result == outcome::appended);
  CHECK(f.read("t", {}, t0 + 3000).result == outcome::ok);
  f.in_txn([&](stream_writer& w) -> caf::expected<ds::write_result> {
    if (auto err = w.touch(f.read("t", {}, t0 + 3000).meta.id, t0 + 3000))
      return err;
    return ds::write_result{};
  });
  CHECK(f.read("t", {}, t0 + 4900).result == outcome::ok);
  CHECK(f.read("t", {}, t0 + 5000).result == outcome::not_found);
  CHECK(f.read("e", {}, t0 + 3999).result == outcome::ok);
  CHECK(f.read("e", {}, t0 + 4000).result == outcome::not_found);
  REQUIRE_FALSE(f.store().begin());
  auto swept = f.writer().expire(t0 + 5000);
  REQUIRE(swept);
  REQUIRE_FALSE(f.store().commit());
  CHECK(swept->size() == 2);
  CHECK_FALSE(f.writer().may_expire());
  // The paths are free again.
  CHECK(f.create(make_create("t", "application/json"), t0 + 6000).result == outcome::created);
}

TEST_CASE("limits: streams per tenant and bytes per stream", "[stream_store]") {
  stream_limits limits;
  limits.max_streams = 2;
  limits.max_stream_bytes = 10;
  stream_store_fixture f{limits};
  CHECK(f.create(make_create("a", "text/plain", "12345")).result == outcome::created);
  CHECK(f.create(make_create("b")).result == outcome::created);
  CHECK(f.create(make_create("c")).result == outcome::too_many_streams);
  CHECK(f.create(make_create("b")).result == outcome::exists);
  CHECK(f.append(make_append("a", "123456")).result == outcome::stream_too_large);
  CHECK(f.append(make_append("a", "12345")).result == outcome::appended);
  CHECK(f.create(make_create("x", "text/plain", std::string(11, 'x'))).result
        == outcome::too_many_streams);
  f.remove("b");
  CHECK(f.create(make_create("x", "text/plain", std::string(11, 'x'))).result
        == outcome::stream_too_large);
  f.reopen(); // the count is read back from the file
  CHECK(f.create(make_create("c")).result == outcome::created);
  CHECK(f.create(make_create("d")).result == outcome::too_many_streams);
}
