// The checkpointer and the writer's own checkpoints: the WAL stays bounded.
#include <catch2/catch.hpp>

#include <filesystem>

#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/checkpointer.hpp"
#include "storage/worker_pool.hpp"
#include "unit/actor_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

std::uintmax_t wal_bytes(const std::string& db_path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(db_path + "-wal", ec);
  return ec ? 0 : n;
}

// Appends `groups` single-event commits one after another; true when all succeeded.
bool append_one_by_one(const writer_actor& writer, int groups) {
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
  // While a pass is syncing (slow on a busy disk) commits go on and the WAL grows by
  // however many happen meanwhile; once the last pass is done, the writer copies the
  // rest and a following transaction restarts the WAL from its start. A connection
  // still reading at that moment (the checkpointer finishing) can postpone the restart
  // by a commit or two, never for good: the WAL must shrink below the threshold within
  // a few commits.
  int appended = 0;
  bool restarted = false;
  while (!restarted && appended < 10) {
    REQUIRE(eventually([&] { return !st.checkpoint_pending.load(); }));
    REQUIRE(append_one_by_one((*t)->writer(), 1));
    ++appended;
    restarted = st.wal_frames.load() < 20;
  }
  CHECK(restarted);
  CHECK(st.head.load() == 600 + appended);
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

TEST_CASE_METHOD(fixture, "without a live checkpointer the writer keeps the WAL bounded itself") {
  opts.store.wal_autocheckpoint = 20;
  opts.writer.checkpointer = spawn_checkpointer(sys);
  {
    // The checkpointer is gone before the tenant starts.
    caf::scoped_actor self{sys};
    self->send_exit(opts.writer.checkpointer, caf::exit_reason::user_shutdown);
    self->wait_for(opts.writer.checkpointer);
  }
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

TEST_CASE_METHOD(fixture, "a held checkpoint holds neither other files nor a release") {
  auto a = dir.file("a.db");
  auto b = dir.file("b.db");
  for (const auto& path : {a, b}) {
    auto w = store_writer::open(path);
    REQUIRE(w);
  }
  auto gate = commit_gate::make();
  auto hold = commit_gate::hook(gate);
  checkpointer_options copts;
  copts.pool = std::make_shared<worker_pool>(2);
  copts.before_checkpoint = [hold, a](const std::string& path) {
    if (path == a)
      hold(1);
  };
  auto checkpointer = spawn_checkpointer(sys, copts);
  auto sa = std::make_shared<tenant_stats>();
  auto sb = std::make_shared<tenant_stats>();
  caf::anon_send(checkpointer, checkpoint_cmd{a, std::make_shared<checkpoint_ticket>(sa)});
  REQUIRE(gate->wait_arrived(1));
  // Another file's checkpoint runs while a's is held.
  caf::anon_send(checkpointer, checkpoint_cmd{b, std::make_shared<checkpoint_ticket>(sb)});
  CHECK(eventually([&] { return sb->checkpoints.load() == 1; }));
  CHECK(sa->checkpoint_pending.load());
  // A release of a while its checkpoint runs is answered only once that has ended and
  // the connection is closed.
  caf::scoped_actor self{sys};
  auto released = self->request(checkpointer, caf::infinite, release_atom::value, a);
  // Handled in order after the release: once done, an early answer would be here.
  caf::anon_send(checkpointer, checkpoint_cmd{b, std::make_shared<checkpoint_ticket>(sb)});
  REQUIRE(eventually([&] { return sb->checkpoints.load() == 2; }));
  CHECK(self->mailbox().empty());
  CHECK(fds_on(a) == 1);
  gate->open();
  bool answered = false;
  released.receive([&](bool ok) { answered = ok; },
                   [&](caf::error&) { answered = false; });
  CHECK(answered);
  CHECK(fds_on(a) == 0);
  CHECK(sa->checkpoints.load() == 1);
  CHECK(sa->checkpoint_failures.load() == 0);
  CHECK_FALSE(sa->checkpoint_pending.load());
  caf::anon_send_exit(checkpointer, caf::exit_reason::user_shutdown);
}
