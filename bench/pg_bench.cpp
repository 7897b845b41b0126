// The PostgreSQL store alone: group transactions of several shapes, and page reads.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "bench_events.hpp"
#include "core/errc.hpp"
#include "storage/pg_reader.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_store.hpp"
#include "support/pg_cluster.hpp"

using namespace ebuse;

namespace {

[[noreturn]] void die(const caf::error& err) {
  std::cerr << "pg_bench: " << message_of(err) << "\n";
  std::abort();
}

// A private PostgreSQL (tests/support/pg_cluster: fsync off, so these figures show the
// store's and the protocol's costs, not a disk's) with one migrated database. By
// default PostgreSQL runs on this machine, as the server would in a single-box setup;
// EBUSE_BENCH_DATABASE_URL points the benchmark at another server instead.
struct bench_env {
  std::unique_ptr<test::pg_cluster> cluster;
  std::string url;

  bench_env() {
    if (const char* u = std::getenv("EBUSE_BENCH_DATABASE_URL")) {
      url = u;
    } else {
      cluster = std::make_unique<test::pg_cluster>();
      url = cluster->create_database();
    }
    if (auto err = pg::migrate_schema(url))
      die(err);
  }
};

bench_env& env() {
  static bench_env e;
  return e;
}

std::unique_ptr<pg_writer> writer(const std::string& tenant, bool notify = true) {
  pg_options opts;
  opts.notify = notify;
  auto w = pg_writer::open(env().url, tenant, opts);
  if (!w)
    die(w.error());
  return std::move(*w);
}

// One group of `appends` appends of `events` events each, per iteration.
void run_groups(benchmark::State& state, int appends, int events, bool keyed) {
  auto w = writer("bench-" + std::to_string(appends) + "x" + std::to_string(events)
                  + (keyed ? "k" : ""));
  write_group g;
  for (int a = 0; a < appends; ++a) {
    append_request req;
    req.events.assign(static_cast<std::size_t>(events), sample_event());
    g.appends.push_back(std::move(req));
  }
  int64_t n = 0;
  for (auto _ : state) {
    if (keyed)
      for (auto& a : g.appends)
        a.idempotency = idempotency_claim{"k" + std::to_string(n++), std::string(32, 'x'), 200,
                                          [](const append_result&) { return std::string{"{}"}; }};
    auto out = w->apply(g);
    if (!out)
      die(out.error());
    benchmark::DoNotOptimize(out->head);
  }
  state.SetItemsProcessed(state.iterations() * appends * events);
}

void BM_pg_append_1(benchmark::State& state) {
  run_groups(state, 1, 1, false);
}
BENCHMARK(BM_pg_append_1)->UseRealTime();

void BM_pg_append_100(benchmark::State& state) {
  run_groups(state, 1, 100, false);
}
BENCHMARK(BM_pg_append_100)->UseRealTime();

// What group commit makes of 64 concurrent single POSTs: one transaction.
void BM_pg_group_64x1(benchmark::State& state) {
  run_groups(state, 64, 1, false);
}
BENCHMARK(BM_pg_group_64x1)->UseRealTime();

// With idempotency keys: the group needs a second round trip (lookups before inserts).
void BM_pg_group_64x1_keyed(benchmark::State& state) {
  run_groups(state, 64, 1, true);
}
BENCHMARK(BM_pg_group_64x1_keyed)->UseRealTime();

// Single-event groups of several tenants at once (a thread and a connection each), with
// and without NOTIFY (range 0): PostgreSQL serializes notifying commits cluster-wide.
void BM_pg_tenants_parallel(benchmark::State& state) {
  auto w = writer("par-" + std::to_string(state.thread_index()), state.range(0) != 0);
  write_group g;
  g.appends.emplace_back().events.push_back(sample_event());
  for (auto _ : state)
    if (auto out = w->apply(g); !out)
      die(out.error());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_pg_tenants_parallel)->Arg(1)->Arg(0)->Threads(1)->Threads(4)->UseRealTime();

// Pages of state.range(0) events from a tenant of 20 000.
void BM_pg_read_page(benchmark::State& state) {
  static bool filled = false;
  if (!filled) {
    auto w = writer("bench-read");
    append_request req;
    req.events.assign(1000, sample_event());
    write_group g;
    g.appends.push_back(std::move(req));
    for (int i = 0; i < 20; ++i)
      if (auto out = w->apply(g); !out)
        die(out.error());
    filled = true;
  }
  pg_reader r{env().url};
  const int64_t limit = state.range(0);
  int64_t from = 1;
  for (auto _ : state) {
    event_page page;
    if (auto err = r.load("bench-read", from, -1, limit, page))
      die(err);
    from = page.last_position >= 20000 - limit ? 1 : page.last_position + 1;
    benchmark::DoNotOptimize(page.json.data());
  }
  state.SetItemsProcessed(state.iterations() * limit);
}
BENCHMARK(BM_pg_read_page)->Arg(100)->Arg(1000)->UseRealTime();

} // namespace

BENCHMARK_MAIN();
