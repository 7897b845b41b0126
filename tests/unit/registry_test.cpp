// The tenant registry: never two instances of a tenant at once, concurrent starts off
// its thread, failed starts backed off.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>

#include "actors/registry.hpp"
#include "unit/actor_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

// Lifecycle events of the registry, in order, as "<event>:<tenant>".
struct event_log {
  std::mutex mtx;
  std::vector<std::string> events;

  std::function<void(std::string_view, std::string_view, std::string_view)> hook() {
    return [this](std::string_view e, std::string_view t, std::string_view) {
      std::lock_guard<std::mutex> guard{mtx};
      events.push_back(std::string{e} + ":" + std::string{t});
    };
  }
  std::vector<std::string> of(const std::string& tenant) {
    std::lock_guard<std::mutex> guard{mtx};
    std::vector<std::string> result;
    for (auto& e : events)
      if (e.size() > tenant.size() && e.compare(e.size() - tenant.size(), tenant.size(), tenant) == 0)
        result.push_back(e.substr(0, e.size() - tenant.size() - 1));
    return result;
  }
  std::size_t count(const std::string& event) {
    std::lock_guard<std::mutex> guard{mtx};
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), event));
  }
};

struct registry_fixture : fixture {
  event_log log;
  registry_options ropts;

  registry_fixture() {
    ropts.on_event = log.hook();
    ropts.defaults = opts;
  }
  void add(const std::string& name) {
    ropts.tenants.push_back(tenant_spec{name, dir.file(name + ".db"), digest_of("key-" + name), ""});
  }
  std::shared_ptr<tenant_registry> start() {
    auto reg = tenant_registry::start(sys, ropts);
    REQUIRE(reg);
    return *reg;
  }
  // A new WAL file at `path`: a lock another process holds on it makes creating the
  // schema wait.
  static std::string wal_file(const std::string& path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    return path;
  }
  // Messages the registry actor has handled.
  static uint64_t handled(const tenant_registry& reg) {
    return reg.stats().actor.handled.load();
  }
  // The count once the registry has handled the housekeeping message it sends itself at
  // start, so that the next message it handles is the test's (the next housekeeping
  // comes seconds later).
  static uint64_t settled(const tenant_registry& reg) {
    REQUIRE(eventually([&] { return handled(reg) >= 1; }));
    return handled(reg);
  }
};

} // namespace

TEST_CASE_METHOD(registry_fixture, "after an idle stop, the next instance opens once the old one closed") {
  auto gate = commit_gate::make();
  ropts.defaults.writer.before_commit = commit_gate::hook(gate);
  ropts.idle_timeout = 40ms;
  add("a");
  auto reg = start();
  auto first = reg->find("key-a");
  REQUIRE(first);
  REQUIRE(*first);
  // A commit held at the gate keeps the old writer busy while the tenant goes idle.
  auto pending = send_append((*first)->writer(), {ev("held")});
  REQUIRE(gate->wait_arrived(1));
  first->reset();
  REQUIRE(eventually([&] { return log.count("tenant stopped:a") == 1; }));
  auto seen = settled(*reg);
  auto next = std::async(std::launch::async, [&] { return reg->find("key-a"); });
  // The request reached the registry while the old writer still holds its commit.
  REQUIRE(eventually([&] { return handled(*reg) > seen; }));
  gate->open();
  auto t = next.get();
  REQUIRE(t);
  REQUIRE(*t);
  REQUIRE(await(pending, 10s));
  CHECK(log.of("a") == std::vector<std::string>{"tenant started", "tenant stopped",
                                                "tenant closed", "tenant started"});
  // The new instance sees the commit the old one finished on its way out.
  CHECK((*t)->stats().head.load() == 1);
  t->reset();
  reg->stop_all();
}

TEST_CASE_METHOD(registry_fixture, "a tenant removed and added again while in use never runs twice") {
  add("a");
  auto specs = ropts.tenants;
  auto reg = start();
  auto held = reg->find("key-a"); // as an open stream holds it
  REQUIRE(held);
  REQUIRE(*held);
  auto one = send_append((*held)->writer(), {ev("one")});
  REQUIRE(await(one, 10s));
  // reload() returns once the new set is applied: its key is gone at once.
  reg->reload({});
  CHECK(reg->stats().reloads.load() == 1);
  auto gone = reg->find("key-a");
  REQUIRE(gone);
  CHECK_FALSE(*gone);
  reg->reload(specs);
  CHECK(reg->stats().reloads.load() == 2);
  auto t = reg->find("key-a");
  REQUIRE(t);
  REQUIRE(*t);
  CHECK(*t != *held);
  CHECK(log.of("a") == std::vector<std::string>{"tenant started", "tenant stopped",
                                                "tenant closed", "tenant started"});
  CHECK((*t)->stats().head.load() == 1);
  // The old instance is stopped: what still holds it gets errors, not a second writer.
  CHECK((*held)->stopping());
  held->reset();
  t->reset();
  reg->stop_all();
}

TEST_CASE_METHOD(registry_fixture, "a slow tenant start does not hold up another tenant's") {
  ropts.defaults.store.busy_timeout_ms = 20000;
  add("slow");
  add("fast");
  outside_lock lock{wal_file(dir.file("slow.db"))};
  REQUIRE(lock.held());
  auto reg = start();
  std::atomic<bool> slow_done{false};
  auto seen = settled(*reg);
  auto slow = std::async(std::launch::async, [&] {
    auto r = reg->find("key-slow");
    slow_done = true;
    return r;
  });
  REQUIRE(eventually([&] { return handled(*reg) > seen; }));
  auto fast = reg->find("key-fast");
  REQUIRE(fast);
  REQUIRE(*fast);
  // The fast tenant was started while the slow one still waits for the lock.
  CHECK_FALSE(slow_done.load());
  lock.release();
  auto s = slow.get();
  REQUIRE(s);
  CHECK(*s);
  fast->reset();
  s->reset();
  reg->stop_all();
}

TEST_CASE_METHOD(registry_fixture, "a failed start is backed off, not retried on every request") {
  ropts.start_backoff = 1s;
  add("broken");
  std::filesystem::create_directory(dir.file("broken.db"));
  auto reg = start();
  auto first = reg->find("key-broken");
  REQUIRE_FALSE(first);
  CHECK(code_of(first.error()) == errc::storage_unavailable);
  for (int i = 0; i < 5; ++i) {
    auto again = reg->find("key-broken");
    REQUIRE_FALSE(again);
    CHECK(code_of(again.error()) == errc::storage_unavailable);
    CHECK(retry_after_of(again.error()) >= 1);
  }
  CHECK(log.count("tenant failed to start:broken") == 1);
  // Fixed by the operator: a request after the back-off starts it.
  std::filesystem::remove(dir.file("broken.db"));
  REQUIRE(eventually([&] {
    auto r = reg->find("key-broken");
    return r && *r;
  }));
  CHECK(log.count("tenant failed to start:broken") == 1);
  CHECK(log.count("tenant started:broken") == 1);
  reg->stop_all();
}

TEST_CASE_METHOD(registry_fixture, "a request waiting for a start when shutdown begins is told at once") {
  // The start waits for another process's write lock and fails after busy_timeout; the
  // shutdown begins meanwhile. Its answer must not wait for the request's own timeout.
  ropts.defaults.store.busy_timeout_ms = 1500;
  add("slow");
  outside_lock lock{wal_file(dir.file("slow.db"))};
  REQUIRE(lock.held());
  auto reg = start();
  auto seen = settled(*reg);
  auto slow = std::async(std::launch::async, [&] { return reg->find("key-slow"); });
  REQUIRE(eventually([&] { return handled(*reg) > seen; }));
  reg->stop_all();
  // Well inside the 30 s a request waits for a start.
  REQUIRE(slow.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto r = slow.get();
  REQUIRE(!r);
  CHECK(code_of(r.error()) == errc::tenant_stopping);
}
