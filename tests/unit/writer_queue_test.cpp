// The writer's queue: bounded in events and bytes, and appends whose waiter gave up are
// dropped before they are written.
#include <catch2/catch.hpp>

#include <thread>

#include "unit/actor_fixture.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

// A waiter on its own thread, as an HTTP thread waits for its append.
struct waiter {
  caf::expected<append_result> result{make_error(errc::internal, "not answered")};
  std::thread thread; // after `result`, which it writes

  waiter(tenant& t, std::vector<new_event> events, std::chrono::milliseconds timeout)
    : thread([this, &t, events = std::move(events), timeout]() mutable {
        result = t.append(std::move(events), timeout);
      }) {
  }
  ~waiter() {
    if (thread.joinable())
      thread.join();
  }
};

std::vector<new_event> events_of(int n, const std::string& type = "e") {
  return std::vector<new_event>(static_cast<std::size_t>(n), ev(type));
}

} // namespace

TEST_CASE_METHOD(fixture, "a full writer queue refuses appends, nothing of them written") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  opts.writer.queue_events = 10;
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& st = (*t)->stats();
  // The first append's commit is held: the queue fills behind it.
  waiter first{**t, events_of(4), 10s};
  REQUIRE(gate->wait_arrived(1));
  waiter second{**t, events_of(6), 10s};
  REQUIRE(eventually([&] { return st.queued_events.load() == 10; }));
  // Beyond 10 events: refused at once, whatever the size.
  auto one = (*t)->append(events_of(1, "refused"), 10s);
  REQUIRE_FALSE(one);
  CHECK(code_of(one.error()) == errc::overloaded);
  CHECK(retry_after_of(one.error()) == 1);
  CHECK(st.overload_refusals.load() == 1);
  gate->open();
  first.thread.join();
  second.thread.join();
  REQUIRE(first.result);
  REQUIRE(second.result);
  CHECK(second.result->last == 10);
  CHECK(st.queued_events.load() == 0);
  CHECK(st.queued_bytes.load() == 0);
  // With room again, appends pass; the refused one was never written.
  auto after = (*t)->append(events_of(1, "after"), 10s);
  REQUIRE(after);
  CHECK(after->first == 11);
}

TEST_CASE_METHOD(fixture, "the writer queue is bounded in bytes too; one append always passes") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  opts.writer.queue_bytes = 4096;
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  // Alone, an append larger than the bound is admitted (else it could never be written).
  std::vector<new_event> big{new_event{"big", "\"" + std::string(10000, 'x') + "\"",
                                       "2024-01-01 00:00:00+00:00"}};
  waiter first{**t, big, 10s};
  REQUIRE(gate->wait_arrived(1));
  auto refused = (*t)->append(events_of(1), 10s);
  REQUIRE_FALSE(refused);
  CHECK(code_of(refused.error()) == errc::overloaded);
  gate->open();
  first.thread.join();
  REQUIRE(first.result);
  CHECK(first.result->first == 1);
  CHECK((*t)->stats().head.load() == 1);
}

TEST_CASE_METHOD(fixture, "an append whose waiter timed out is dropped before it is written") {
  auto gate = commit_gate::make();
  opts.writer.before_commit = commit_gate::hook(gate);
  auto t = tenant::start(sys, opts);
  REQUIRE(t);
  auto& st = (*t)->stats();
  waiter first{**t, events_of(1, "first"), 10s};
  REQUIRE(gate->wait_arrived(1));
  // Queued behind the held commit; its waiter gives up before the writer gets to it.
  auto gone = (*t)->append(events_of(3, "gone"), 1ms);
  REQUIRE_FALSE(gone);
  CHECK(code_of(gone.error()) == errc::timeout);
  waiter kept{**t, events_of(2, "kept"), 10s};
  REQUIRE(eventually([&] { return st.queued_events.load() == 6; }));
  gate->open();
  first.thread.join();
  kept.thread.join();
  REQUIRE(first.result);
  REQUIRE(kept.result);
  CHECK(kept.result->first == 2);
  CHECK(kept.result->last == 3);
  CHECK(st.head.load() == 3);
  CHECK(st.dropped_abandoned.load() == 1);
  CHECK(st.queued_events.load() == 0);
  // The dropped events are nowhere in the file.
  t->reset();
  sys.await_all_actors_done();
  auto r = store_reader::open(opts.db_path);
  REQUIRE(r);
  auto head = (*r)->max_position();
  REQUIRE(head);
  CHECK(*head == 3);
}
