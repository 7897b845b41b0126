// Streams through the tenant's actors: the writer's groups, readers, wake-ups, sweeps.
#include <catch2/catch.hpp>

#include "actors/stream_signal.hpp"
#include "streams/content_type.hpp"
#include "unit/actor_fixture.hpp"
#include "unit/stream_store_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

caf::expected<streams::write_result> write(tenant& t, stream_write_cmd cmd) {
  auto [tx, rx] = make_reply<streams::write_result>();
  cmd.reply = std::move(tx);
  caf::anon_send(t.writer(), std::move(cmd));
  return await(rx, 10s);
}

streams::write_result create(tenant& t, streams::create_request req) {
  stream_write_cmd cmd;
  cmd.op = std::move(req);
  auto res = write(t, std::move(cmd));
  REQUIRE(res);
  return *res;
}

streams::write_result append(tenant& t, streams::append_request req) {
  stream_write_cmd cmd;
  cmd.op = std::move(req);
  auto res = write(t, std::move(cmd));
  REQUIRE(res);
  return *res;
}

streams::read_result read(tenant& t, const std::string& path) {
  auto [tx, rx] = make_reply<streams::read_result>();
  stream_read_cmd cmd;
  cmd.req.path = path;
  cmd.reply = std::move(tx);
  caf::anon_send(t.reader(), std::move(cmd));
  auto res = await(rx, 10s);
  REQUIRE(res);
  return *res;
}

int64_t count_streams(const std::string& db) {
  sqlite3* conn = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &conn) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(conn, "SELECT COUNT(*) FROM ds_streams", -1, &st, nullptr);
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(conn);
  return n;
}

} // namespace

TEST_CASE_METHOD(fixture, "stream writes and event appends go through one writer",
                 "[stream_actors]") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& tn = **t;
  auto events = send_append(tn.writer(), {ev("a")});
  CHECK(create(tn, make_create("s", "application/json", R"([{"n":1}])")).result
        == streams::outcome::created);
  auto more = send_append(tn.writer(), {ev("b"), ev("c")});
  CHECK(append(tn, make_append("s", R"({"n":2})", "application/json")).tail
        == streams::offset{2, 14});
  auto first = await(events, 10s);
  auto second = await(more, 10s);
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->first == 1);
  CHECK(second->last == 3);
  auto rr = read(tn, "s");
  CHECK(rr.payload == R"([{"n":1},{"n":2}])");
  CHECK(tn.stats().stream_writes.load() == 2);
  CHECK(tn.stats().stream_reads.load() == 1);
}

TEST_CASE_METHOD(fixture, "a commit wakes the watchers of the streams it changed, before "
                          "it answers", "[stream_actors]") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& tn = **t;
  auto a = create(tn, make_create("a"));
  auto b = create(tn, make_create("b"));
  stream_watch wa{tn.streams_signal(), a.stream_id};
  auto seen = wa.version();
  append(tn, make_append("b", "x"));
  CHECK(wa.version() == seen); // another stream
  append(tn, make_append("a", "x"));
  CHECK(wa.version() != seen); // notified before the reply was sent
  seen = wa.version();
  auto refused = make_append("a", "x", "application/json");
  CHECK(append(tn, refused).result == streams::outcome::content_type_mismatch);
  CHECK(wa.version() == seen); // nothing changed
  auto close = make_append("a", "", "");
  close.close = true;
  append(tn, close);
  CHECK(wa.version() != seen);
}

TEST_CASE_METHOD(fixture, "a failed group answers stream writes with the storage error",
                 "[stream_actors]") {
  opts.store.busy_timeout_ms = 100;
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& tn = **t;
  create(tn, make_create("a"));
  {
    outside_lock lock{opts.db_path};
    REQUIRE(lock.held());
    stream_write_cmd cmd;
    cmd.op = make_append("a", "lost");
    auto res = write(tn, std::move(cmd));
    REQUIRE_FALSE(res);
    CHECK(code_of(res.error()) == errc::storage_busy);
  }
  CHECK(read(tn, "a").payload.empty());
  CHECK(append(tn, make_append("a", "kept")).result == streams::outcome::appended);
  CHECK(read(tn, "a").payload == "kept");
}

TEST_CASE_METHOD(fixture, "the writer sweeps expired streams and wakes their watchers",
                 "[stream_actors]") {
  opts.writer.sweep_interval = std::chrono::milliseconds(20);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& tn = **t;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto req = make_create("short", "text/plain", "data");
  req.exp.expires_at_ms = now + 200;
  auto c = create(tn, req);
  create(tn, make_create("forever"));
  stream_watch w{tn.streams_signal(), c.stream_id};
  auto seen = w.version();
  CHECK(count_streams(opts.db_path) == 2);
  CHECK(eventually([&] { return count_streams(opts.db_path) == 1; }));
  // The watchers are woken after the sweep's commit, which the file shows first.
  CHECK(eventually([&] { return w.version() != seen; }));
  CHECK(read(tn, "short").result == streams::outcome::not_found);
  CHECK(read(tn, "forever").result == streams::outcome::ok);
}

TEST_CASE_METHOD(fixture, "stopping the tenant ends the waits on its streams",
                 "[stream_actors]") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& tn = **t;
  auto a = create(tn, make_create("a"));
  stream_watch w{tn.streams_signal(), a.stream_id};
  auto seen = w.version();
  tn.stop();
  auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(w.wait(seen, start + 60s));
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}
