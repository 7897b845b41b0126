// Actors: group commit, failure answers, subscription persistence, broken replies.
#include <catch2/catch.hpp>

#include <set>

#include <caf/exit_reason.hpp>

#include "unit/actor_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

TEST_CASE_METHOD(fixture, "appends queued during a commit are written in one commit") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& writer = (*t)->writer();
  REQUIRE(writer_took(**t, writer_start_messages));
  std::vector<reply_future<append_result>> replies;
  // The writer's first group is held at the gate; everything sent meanwhile queues up
  // and must be committed as one second group.
  replies.push_back(send_append(writer, {ev("first")}));
  REQUIRE(gate->wait_arrived(1));
  for (int i = 0; i < 49; ++i)
    replies.push_back(send_append(writer, {ev("queued")}));
  REQUIRE(writer_took(**t, writer_start_messages + 50));
  gate->open();
  std::set<int64_t> positions;
  for (auto& rx : replies) {
    auto res = await(rx, 10s);
    REQUIRE(res);
    CHECK(res->first == res->last);
    positions.insert(res->first);
  }
  CHECK(positions.size() == 50);
  CHECK(*positions.begin() == 1);
  CHECK(*positions.rbegin() == 50);
  const auto& st = (*t)->stats();
  CHECK(st.commits.load() == 2);
  CHECK(st.events_written.load() == 50);
  CHECK(st.max_group.load() == 49);
  CHECK(st.head.load() == 50);
  CHECK(gate->sizes() == std::vector<std::size_t>{1, 49});
}

TEST_CASE_METHOD(fixture, "a failed commit answers every requester with the error") {
  opts.store.busy_timeout_ms = 100;
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  std::vector<reply_future<append_result>> replies;
  {
    outside_lock lock{opts.db_path};
    REQUIRE(lock.held());
    for (int i = 0; i < 10; ++i)
      replies.push_back(send_append((*t)->writer(), {ev("x"), ev("y")}));
    for (auto& rx : replies) {
      auto res = await(rx, 10s);
      REQUIRE_FALSE(res);
      CHECK(code_of(res.error()) == errc::storage_busy);
    }
  }
  CHECK((*t)->stats().head.load() == 0);
  CHECK((*t)->stats().failed_commits.load() >= 1);
  // The writer recovers once the lock is gone, with no gap in positions.
  auto rx = send_append((*t)->writer(), {ev("after")});
  auto res = await(rx, 10s);
  REQUIRE(res);
  CHECK(res->first == 1);
}

TEST_CASE_METHOD(fixture, "one failing write in a group does not fail the others") {
  {
    auto t = tenant::start(sys, opts);
    REQUIRE(t);
    (*t)->stop();
  }
  // Stopping is asynchronous: wait until the writer has closed the file.
  sys.await_all_actors_done();
  // A trigger makes exactly one kind of insert fail, as a constraint would.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(opts.db_path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TRIGGER reject_boom BEFORE INSERT ON events "
                         "WHEN NEW.type = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
                         nullptr, nullptr, nullptr)
            == SQLITE_OK);
    sqlite3_close(db);
  }
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  REQUIRE(writer_took(**t, writer_start_messages));
  std::vector<reply_future<append_result>> replies;
  replies.push_back(send_append((*t)->writer(), {ev("a")}));
  REQUIRE(gate->wait_arrived(1));
  replies.push_back(send_append((*t)->writer(), {ev("b")}));
  replies.push_back(send_append((*t)->writer(), {ev("ok"), ev("boom")}));
  replies.push_back(send_append((*t)->writer(), {ev("c")}));
  REQUIRE(writer_took(**t, writer_start_messages + 4));
  gate->open();
  std::vector<bool> ok;
  for (auto& rx : replies)
    ok.push_back(static_cast<bool>(await(rx, 10s)));
  CHECK(ok == std::vector<bool>{true, true, false, true});
  CHECK((*t)->stats().head.load() == 3);
  // b, the failing batch and c were one group, retried one by one after it failed.
  auto sizes = gate->sizes();
  REQUIRE(sizes.size() >= 2);
  CHECK(sizes[1] == 3);
}

TEST_CASE_METHOD(fixture, "subscription saves are acknowledged after commit and survive") {
  {
    auto t = tenant::start(sys, opts);
    REQUIRE(t);
    auto [tx, rx] = make_reply<int64_t>();
    sub_save_cmd save;
    save.id = "projector";
    save.position = 42;
    save.reply = std::move(tx);
    caf::anon_send((*t)->subscriptions(), std::move(save));
    auto saved = await(rx, 10s);
    REQUIRE(saved);
    CHECK(*saved == 42);
    auto [tx2, rx2] = make_reply<int64_t>();
    caf::anon_send((*t)->subscriptions(), sub_get_cmd{"projector", std::move(tx2)});
    auto got = await(rx2, 10s);
    REQUIRE(got);
    CHECK(*got == 42);
    (*t)->stop();
  }
  sys.await_all_actors_done();
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto [tx, rx] = make_reply<int64_t>();
  caf::anon_send((*t)->subscriptions(), sub_get_cmd{"projector", std::move(tx)});
  auto got = await(rx, 10s);
  REQUIRE(got);
  CHECK(*got == 42);
  auto [tx3, rx3] = make_reply<int64_t>();
  caf::anon_send((*t)->subscriptions(), sub_get_cmd{"unknown", std::move(tx3)});
  auto unknown = await(rx3, 10s);
  REQUIRE(unknown);
  CHECK(*unknown == 0);
}

TEST_CASE_METHOD(fixture, "a command to a stopped actor fails at once, not at timeout") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  reader_actor reader = (*t)->reader();
  caf::anon_send_exit(reader, caf::exit_reason::kill);
  REQUIRE(eventually([&] {
    auto [tx, rx] = make_reply<int64_t>();
    caf::anon_send(reader, health_cmd{std::move(tx)});
    auto res = await(rx, 10s);
    return !res && code_of(res.error()) == errc::storage_unavailable;
  }));
}

TEST_CASE_METHOD(fixture, "stopping a tenant commits what the writer holds") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  std::vector<reply_future<append_result>> replies;
  for (int i = 0; i < 20; ++i)
    replies.push_back(send_append((*t)->writer(), {ev("e")}));
  (*t)->stop();
  for (auto& rx : replies)
    REQUIRE(await(rx, 10s));
  t->reset();
  sys.await_all_actors_done();
  auto r = store_reader::open(opts.db_path);
  REQUIRE(r);
  auto head = (*r)->max_position();
  REQUIRE(head);
  CHECK(*head == 20);
}

TEST_CASE_METHOD(fixture, "a group of batches of every size gives each its own positions") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& writer = (*t)->writer();
  std::vector<int> sizes{1, 70, 3, 8, 64, 1, 129, 9};
  std::vector<reply_future<append_result>> replies;
  REQUIRE(writer_took(**t, writer_start_messages));
  // Held first group: everything else queues up and is committed as one group.
  replies.push_back(send_append(writer, {ev("first")}));
  REQUIRE(gate->wait_arrived(1));
  for (std::size_t j = 0; j < sizes.size(); ++j) {
    std::vector<new_event> events;
    for (int i = 0; i < sizes[j]; ++i)
      events.push_back(ev("op" + std::to_string(j)));
    replies.push_back(send_append(writer, std::move(events)));
  }
  REQUIRE(writer_took(**t, writer_start_messages + 1 + sizes.size()));
  gate->open();
  REQUIRE(await(replies[0], 10s));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(opts.db_path.c_str(), &db) == SQLITE_OK);
  int64_t next = 2;
  for (std::size_t j = 0; j < sizes.size(); ++j) {
    auto res = await(replies[j + 1], 10s);
    REQUIRE(res);
    CHECK(res->first == next);
    CHECK(res->last == next + sizes[j] - 1);
    next = res->last + 1;
    // Exactly this batch's events sit at its positions.
    auto sql = "SELECT COUNT(*) FROM events WHERE type = 'op" + std::to_string(j)
               + "' AND position BETWEEN " + std::to_string(res->first) + " AND "
               + std::to_string(res->last);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int64(st, 0) == sizes[j]);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  CHECK((*t)->stats().commits.load() == 2);
}
