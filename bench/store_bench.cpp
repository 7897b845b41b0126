// The original's benchmark table, measured through the actors the server uses.
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include "actors/tenant.hpp"
#include "bench_events.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

namespace {

/// One tenant on a fresh file, shared by the benchmarks of a process run.
struct bench_env {
  test::temp_dir dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<tenant> t;

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
    t->stop();
    t.reset();
  }

  append_result append(std::vector<new_event> events) {
    auto [tx, rx] = make_reply<append_result>();
    caf::anon_send(t->writer(), append_cmd{std::move(events), std::move(tx)});
    auto res = await(rx, 30s);
    if (!res)
      std::abort();
    return *res;
  }

  event_page load(int64_t from, int64_t to, int64_t limit) {
    auto [tx, rx] = make_reply<event_page>();
    caf::anon_send(t->reader(), load_cmd{from, to, limit, std::move(tx)});
    auto res = await(rx, 30s);
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
    auto [tx, rx] = make_reply<int64_t>();
    caf::anon_send(e.t->reader(), health_cmd{std::move(tx)});
    benchmark::DoNotOptimize(await(rx, 30s));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ActorRoundTrip)->UseRealTime();

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
