// Actors: group commit, failure answers, subscription persistence, broken replies.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <sqlite3.h>

#include "actors/checkpointer.hpp"
#include "actors/tenant.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

namespace {

new_event ev(std::string type) {
  return new_event{std::move(type), "1", "2024-01-01 00:00:00+00:00"};
}

reply_future<append_result> send_append(const caf::actor& writer,
                                        std::vector<new_event> events) {
  auto [tx, rx] = make_reply<append_result>();
  append_cmd cmd;
  cmd.events = std::move(events);
  cmd.reply = std::move(tx);
  caf::anon_send(writer, std::move(cmd));
  return std::move(rx);
}

/// A write lock held by another connection, as another process would hold it.
class outside_lock {
public:
  explicit outside_lock(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    rc_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  }
  ~outside_lock() {
    release();
    sqlite3_close(db_);
  }
  bool held() const {
    return rc_ == SQLITE_OK;
  }
  void release() {
    if (rc_ == SQLITE_OK)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    rc_ = -1;
  }

private:
  sqlite3* db_ = nullptr;
  int rc_ = -1;
};

// Waits until `pred` holds, at most `limit`.
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(2ms);
  }
  return pred();
}

struct fixture {
  test::temp_dir dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  tenant_options opts;

  fixture() {
    opts.name = "t";
    opts.db_path = dir.file("t.db");
    opts.readers = 2;
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "appends waiting in the mailbox are written in one commit") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& writer = (*t)->writer();
  std::vector<reply_future<append_result>> replies;
  {
    // The writer's first group blocks on the lock; everything sent meanwhile queues up
    // in its mailbox and must be committed as one second group.
    outside_lock lock{opts.db_path};
    REQUIRE(lock.held());
    replies.push_back(send_append(writer, {ev("first")}));
    std::this_thread::sleep_for(50ms);
    for (int i = 0; i < 49; ++i)
      replies.push_back(send_append(writer, {ev("queued")}));
    std::this_thread::sleep_for(50ms);
  }
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
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  std::vector<reply_future<append_result>> replies;
  {
    outside_lock lock{opts.db_path};
    replies.push_back(send_append((*t)->writer(), {ev("a")}));
    std::this_thread::sleep_for(50ms);
    replies.push_back(send_append((*t)->writer(), {ev("b")}));
    replies.push_back(send_append((*t)->writer(), {ev("ok"), ev("boom")}));
    replies.push_back(send_append((*t)->writer(), {ev("c")}));
    std::this_thread::sleep_for(50ms);
  }
  std::vector<bool> ok;
  for (auto& rx : replies)
    ok.push_back(static_cast<bool>(await(rx, 10s)));
  CHECK(ok == std::vector<bool>{true, true, false, true});
  CHECK((*t)->stats().head.load() == 3);
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
  caf::actor reader = (*t)->reader();
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

namespace {

std::uintmax_t wal_bytes(const std::string& db_path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(db_path + "-wal", ec);
  return ec ? 0 : n;
}

// Appends `groups` single-event commits one after another; true when all succeeded.
bool append_one_by_one(const caf::actor& writer, int groups) {
  for (int i = 0; i < groups; ++i) {
    auto rx = send_append(writer, {ev("e" + std::to_string(i))});
    if (!await(rx, 10s))
      return false;
  }
  return true;
}

} // namespace

TEST_CASE_METHOD(fixture, "the checkpointer keeps the WAL bounded, beside the writer") {
  opts.store.wal_autocheckpoint = 20;
  opts.writer.checkpointer = spawn_checkpointer(sys);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  const auto& st = (*t)->stats();
  REQUIRE(append_one_by_one((*t)->writer(), 600));
  // Each commit writes at least one WAL frame: 600 commits would make a WAL of 600+
  // pages (2.4 MB+) if nothing checkpointed it.
  CHECK(eventually([&] { return st.checkpoints.load() >= 3; }));
  CHECK(st.checkpoint_failures.load() == 0);
  // The background passes did the copying (not just ran).
  CHECK(st.checkpointed_frames.load() >= 3 * 20);
  // The writer finished each background pass, so the WAL restarted from its start.
  CHECK(st.writer_checkpoints.load() >= 3);
  // (The file itself may have grown further meanwhile: while a pass is syncing, which
  // can be slow on a busy disk, nothing else can checkpoint and commits go on.)
  CHECK(st.wal_frames.load() < 200);
  CHECK(st.head.load() == 600);
  (*t)->stop();
  caf::anon_send_exit(opts.writer.checkpointer, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "without a checkpointer the writer checkpoints after answering") {
  opts.store.wal_autocheckpoint = 20;
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  const auto& st = (*t)->stats();
  REQUIRE(append_one_by_one((*t)->writer(), 300));
  CHECK(st.checkpoints.load() == 0);
  CHECK(st.writer_checkpoints.load() >= 5);
  CHECK(st.wal_frames.load() < 100);
  CHECK(wal_bytes(opts.db_path) < 100 * 4200);
}

TEST_CASE_METHOD(fixture, "a checkpoint of a missing file fails without creating it") {
  auto checkpointer = spawn_checkpointer(sys);
  auto stats = std::make_shared<tenant_stats>();
  auto path = dir.file("gone.db");
  caf::anon_send(checkpointer, checkpoint_cmd{path, std::make_shared<checkpoint_ticket>(stats)});
  CHECK(eventually([&] { return !stats->checkpoint_pending.load(); }));
  CHECK(stats->checkpoint_failures.load() == 1);
  CHECK_FALSE(std::filesystem::exists(path));
  caf::anon_send_exit(checkpointer, caf::exit_reason::user_shutdown);
}

TEST_CASE_METHOD(fixture, "a group of batches of every size gives each its own positions") {
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& writer = (*t)->writer();
  std::vector<int> sizes{1, 70, 3, 8, 64, 1, 129, 9};
  std::vector<reply_future<append_result>> replies;
  {
    // Held lock: everything queues up and is committed as one group (after the first).
    outside_lock lock{opts.db_path};
    REQUIRE(lock.held());
    replies.push_back(send_append(writer, {ev("first")}));
    std::this_thread::sleep_for(50ms);
    for (std::size_t j = 0; j < sizes.size(); ++j) {
      std::vector<new_event> events;
      for (int i = 0; i < sizes[j]; ++i)
        events.push_back(ev("op" + std::to_string(j)));
      replies.push_back(send_append(writer, std::move(events)));
    }
    std::this_thread::sleep_for(50ms);
  }
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

TEST_CASE_METHOD(fixture, "without a live checkpointer the writer keeps the WAL bounded itself") {
  opts.store.wal_autocheckpoint = 20;
  opts.writer.checkpointer = spawn_checkpointer(sys);
  caf::anon_send_exit(opts.writer.checkpointer, caf::exit_reason::user_shutdown);
  std::this_thread::sleep_for(50ms);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  const auto& st = (*t)->stats();
  REQUIRE(append_one_by_one((*t)->writer(), 300));
  // Every request is dropped: its ticket clears the pending flag, the writer checkpoints.
  CHECK_FALSE(st.checkpoint_pending.load());
  CHECK(st.checkpoints.load() == 0);
  CHECK(st.writer_checkpoints.load() >= 5);
  CHECK(st.wal_frames.load() < 100);
}

namespace {

// Open descriptors of this process on `path`.
int fds_on(const std::string& path) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(e.path(), ec);
    if (!ec && target == path)
      ++n;
  }
  return n;
}

} // namespace

TEST_CASE_METHOD(fixture, "the checkpointer closes a file it has not used for a while") {
  {
    auto w = store_writer::open(opts.db_path);
    REQUIRE(w);
  }
  REQUIRE(fds_on(opts.db_path) == 0);
  auto checkpointer = spawn_checkpointer(sys, 100ms);
  auto stats = std::make_shared<tenant_stats>();
  caf::anon_send(checkpointer,
                 checkpoint_cmd{opts.db_path, std::make_shared<checkpoint_ticket>(stats)});
  CHECK(eventually([&] { return stats->checkpoints.load() == 1; }));
  CHECK(fds_on(opts.db_path) == 1);
  CHECK(eventually([&] { return fds_on(opts.db_path) == 0; }, 3000ms));
  caf::anon_send_exit(checkpointer, caf::exit_reason::user_shutdown);
}
