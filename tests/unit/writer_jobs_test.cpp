// The cooperative writer: groups formed while a commit job is in flight, the shared pool, the close.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <thread>

#include "storage/event_store.hpp"
#include "storage/worker_pool.hpp"
#include "unit/actor_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

// Awaits every reply; the set of positions they answered, empty if one failed.
std::set<int64_t> positions_of(std::vector<reply_future<append_result>>& replies) {
  std::set<int64_t> out;
  for (auto& rx : replies) {
    auto res = await(rx, 10s);
    if (!res)
      return {};
    for (auto p = res->first; p <= res->last; ++p)
      out.insert(p);
  }
  return out;
}

} // namespace

TEST_CASE_METHOD(fixture, "appends arriving during a commit form the next groups, bounded in size",
                 "[writer_jobs]") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  opts.writer.max_group_events = 10;
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  REQUIRE(writer_took(**t, writer_start_messages));
  std::vector<reply_future<append_result>> replies;
  replies.push_back(send_append((*t)->writer(), {ev("first")}));
  REQUIRE(gate->wait_arrived(1));
  for (int i = 0; i < 25; ++i)
    replies.push_back(send_append((*t)->writer(), {ev("queued")}));
  // Every append is in the writer's queue (the job takes what is queued when the commit
  // ends), and the writer answers nothing while its commit is held.
  REQUIRE(writer_took(**t, writer_start_messages + 26));
  CHECK(gate->sizes().size() == 1);
  gate->open();
  auto positions = positions_of(replies);
  REQUIRE(positions.size() == 26);
  CHECK(*positions.begin() == 1);
  CHECK(*positions.rbegin() == 26);
  CHECK(gate->sizes() == std::vector<std::size_t>{1, 10, 10, 5});
  CHECK((*t)->stats().commits.load() == 4);
}

TEST_CASE_METHOD(fixture, "a tenant's held commit does not hold another tenant's",
                 "[writer_jobs]") {
  auto pool = std::make_shared<worker_pool>(2);
  auto gate = commit_gate::make();
  auto held = opts;
  held.writer.pool = pool;
  held.writer.before_commit = commit_gate::hook(gate);
  auto other = opts;
  other.name = "u";
  other.db_path = dir.file("u.db");
  other.writer.pool = pool;
  auto a = tenant::start(sys, held);
  auto b = tenant::start(sys, other);
  REQUIRE(a);
  REQUIRE(b);
  auto rx_a = send_append((*a)->writer(), {ev("held")});
  REQUIRE(gate->wait_arrived(1));
  for (int i = 0; i < 20; ++i) {
    auto rx = send_append((*b)->writer(), {ev("free")});
    auto res = await(rx, 10s);
    REQUIRE(res);
    CHECK(res->first == i + 1);
  }
  gate->open();
  auto res = await(rx_a, 10s);
  REQUIRE(res);
  CHECK(res->first == 1);
}

TEST_CASE_METHOD(fixture, "a writer stopped during a commit commits what is queued, then closes",
                 "[writer_jobs][sqlite]") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  {
    auto t = tenant::start(sys, opts);
    REQUIRE(t);
    std::vector<reply_future<append_result>> replies;
    replies.push_back(send_append((*t)->writer(), {ev("first")}));
    REQUIRE(gate->wait_arrived(1));
    for (int i = 0; i < 5; ++i)
      replies.push_back(send_append((*t)->writer(), {ev("queued"), ev("queued")}));
    (*t)->stop();
    gate->open();
    auto positions = positions_of(replies);
    CHECK(positions.size() == 11);
  }
  // Every actor has quit, so the writer's file is closed: it opens with its events.
  sys.await_all_actors_done();
  // The last connection to close removes the WAL (the writer checkpointed it first).
  CHECK_FALSE(std::filesystem::exists(opts.db_path + "-wal"));
  auto reader = store_reader::open(opts.db_path, opts.store);
  REQUIRE(reader);
  auto head = (*reader)->max_position();
  REQUIRE(head);
  CHECK(*head == 11);
}

TEST_CASE_METHOD(fixture, "appends through the front door are checked after the actor's writes "
                          "queued before them",
                 "[writer_jobs]") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  const auto base = writer_start_messages;
  REQUIRE(writer_took(**t, base));
  auto first = send_append((*t)->writer(), {ev("first")});
  REQUIRE(gate->wait_arrived(1));
  auto second = send_append((*t)->writer(), {ev("through the actor")});
  REQUIRE(writer_took(**t, base + 2));
  // Neither front-door append passes the actor; each is checked against the head the
  // writes queued before it leave (the actor's second append included).
  caf::expected<append_outcome> stale{caf::error{}};
  caf::expected<append_outcome> fits{caf::error{}};
  std::thread a([&] {
    append_request req;
    req.events = {ev("front, stale")};
    req.expected_head = 1;
    stale = (*t)->append(std::move(req), 10s);
  });
  REQUIRE(writer_took(**t, base + 3));
  std::thread b([&] {
    append_request req;
    req.events = {ev("front, fits")};
    req.expected_head = 2;
    fits = (*t)->append(std::move(req), 10s);
  });
  REQUIRE(writer_took(**t, base + 4));
  CHECK(gate->sizes().size() == 1);
  gate->open();
  a.join();
  b.join();
  REQUIRE(await(first, 10s));
  auto res = await(second, 10s);
  REQUIRE(res);
  CHECK(res->first == 2);
  REQUIRE(stale);
  CHECK(stale->status == append_status::conflict);
  REQUIRE(fits);
  CHECK(fits->status == append_status::applied);
  CHECK(fits->positions.first == 3);
  // The actor's append and both front-door appends formed one group.
  CHECK(gate->sizes() == std::vector<std::size_t>{1, 3});
}
