// The original's benchmark table, measured through the actors the server uses.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/tenant.hpp"
#include "bench_events.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

namespace {

// Answers a health_cmd through its reply channel, and an integer by returning it.
using echo_actor =
  caf::typed_actor<caf::reacts_to<health_cmd>, caf::replies_to<int64_t>::with<int64_t>>;

echo_actor::behavior_type echo_impl(echo_actor::pointer) {
  return {
    [](health_cmd& cmd) { deliver<int64_t>(cmd.reply, int64_t{1}); },
    [](int64_t x) { return x; },
  };
}

/// One tenant on a fresh file, shared by the benchmarks of a process run.
struct bench_env {
  test::temp_dir dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<tenant> t;
  echo_actor echo = sys.spawn<caf::detached>(echo_impl);

  bench_env() {
    tenant_options opts;
    opts.name = "bench";
    opts.db_path = dir.file("bench.db");
    auto res = tenant::start(sys, opts);
    if (!res)
      std::abort();
    t = *res;
  }

  ~bench_env() {
    caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
    t->stop();
    t.reset();
  }

  append_result append(std::vector<new_event> events) {
    append_cmd cmd;
    cmd.events = std::move(events);
    auto res = ask(t->writer(), std::move(cmd), 30s);
    if (!res)
      std::abort();
    return *res;
  }

  event_page load(int64_t from, int64_t to, int64_t limit) {
    auto res = ask(t->reader(), load_cmd{from, to, limit, {}, false, false, {}}, 30s);
    if (!res)
      std::abort();
    return std::move(*res);
  }

  // Makes sure at least `n` events exist.
  void seed(int64_t n) {
    while (t->stats().head.load() < n)
      append(std::vector<new_event>(1000, sample_event()));
  }
};

// Created on first use and destroyed before main returns: the actor system must not
// be torn down during static destruction.
std::unique_ptr<bench_env> shared_env;
std::once_flag shared_env_once;

bench_env& env() {
  std::call_once(shared_env_once, [] { shared_env = std::make_unique<bench_env>(); });
  return *shared_env;
}

void BM_Save(benchmark::State& state) {
  auto& e = env();
  for (auto _ : state)
    benchmark::DoNotOptimize(e.append({sample_event()}));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Save)->UseRealTime();

void BM_SaveBatch(benchmark::State& state) {
  auto& e = env();
  std::vector<new_event> batch(static_cast<size_t>(state.range(0)), sample_event());
  for (auto _ : state)
    benchmark::DoNotOptimize(e.append(batch));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SaveBatch)->Arg(10)->Arg(100)->Arg(1000)->UseRealTime();

void BM_Load10k(benchmark::State& state) {
  auto& e = env();
  e.seed(10000);
  for (auto _ : state) {
    auto page = e.load(1, -1, 10000);
    benchmark::DoNotOptimize(page.json.data());
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_Load10k)->UseRealTime();

// Pages of 1000 as GET /events/stream reads them, the next page requested before the
// current one is consumed.
void BM_LoadStream10k(benchmark::State& state) {
  auto& e = env();
  e.seed(10000);
  for (auto _ : state) {
    int64_t next = 1, total = 0;
    while (total < 10000) {
      auto page = e.load(next, 10000, 1000);
      total += page.count;
      next = page.last_position + 1;
      if (page.count == 0)
        break;
    }
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_LoadStream10k)->UseRealTime();

// Many threads appending single events at once: group commit turns them into few
// transactions.
void BM_ConcurrentSave(benchmark::State& state) {
  auto& e = env();
  for (auto _ : state)
    benchmark::DoNotOptimize(e.append({sample_event()}));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConcurrentSave)->Threads(16)->Threads(64)->UseRealTime();

// GET /position reads the head the writer publishes after each commit.
void BM_GetPosition(benchmark::State& state) {
  auto& e = env();
  for (auto _ : state)
    benchmark::DoNotOptimize(e.t->stats().head.load(std::memory_order_acquire));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetPosition)->UseRealTime();

// The HTTP->actor->HTTP bridge alone: one message to a reader and its answer.
void BM_ActorRoundTrip(benchmark::State& state) {
  auto& e = env();
  for (auto _ : state) {
    benchmark::DoNotOptimize(ask(e.t->reader(), health_cmd{}, 30s));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ActorRoundTrip)->UseRealTime();

// -- the reply channel against CAF's own request/response --------------------------------
// HTTP threads are not actors. They wait for an answer either on a reply channel
// (reply.hpp) or through a scoped_actor's request/receive. The same detached actor
// (echo_actor) answers both ways, doing nothing else, so the figures are the bridges alone.

const echo_actor& echo() {
  return env().echo;
}

void BM_BridgeReplyChannel(benchmark::State& state) {
  auto& dest = echo();
  for (auto _ : state)
    benchmark::DoNotOptimize(ask(dest, health_cmd{}, 30s));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BridgeReplyChannel)->UseRealTime()->Threads(1)->Threads(16);

// CAF's request/response from a thread outside the actor system.
int64_t request_echo(caf::scoped_actor& self, const echo_actor& dest) {
  int64_t answer = 0;
  self->request(dest, 30s, int64_t{1})
    .receive([&](int64_t x) { answer = x; }, [](caf::error&) { std::abort(); });
  return answer;
}

// One scoped_actor per thread, reused for every request.
void BM_BridgeScopedActor(benchmark::State& state) {
  caf::scoped_actor self{env().sys};
  for (auto _ : state)
    benchmark::DoNotOptimize(request_echo(self, echo()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BridgeScopedActor)->UseRealTime()->Threads(1)->Threads(16);

// A scoped_actor created for each request, as a request handler without state would.
void BM_BridgeScopedActorPerRequest(benchmark::State& state) {
  for (auto _ : state) {
    caf::scoped_actor self{env().sys};
    benchmark::DoNotOptimize(request_echo(self, echo()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BridgeScopedActorPerRequest)->UseRealTime()->Threads(1)->Threads(16);

// A commit through the writer asked by a scoped_actor (a subscription save, one row like
// BM_Save's append), against BM_Save's reply channel.
void BM_SaveScopedActor(benchmark::State& state) {
  auto& e = env();
  caf::scoped_actor self{e.sys};
  int64_t pos = 0;
  for (auto _ : state) {
    self->request(e.t->writer(), 30s, save_atom::value, std::string{"bench"}, ++pos)
      .receive([&](int64_t x) { benchmark::DoNotOptimize(x); },
               [](caf::error&) { std::abort(); });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SaveScopedActor)->UseRealTime();

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  shared_env.reset();
  return 0;
}
