// The cost of the instrumentation on the hot path of every message and request.
#include <benchmark/benchmark.h>

#include "obs/actor_metrics.hpp"
#include "http/route_table.hpp"
#include "obs/http_metrics.hpp"

using namespace ebuse;

namespace {

// What every actor pays per message: two clock reads, a histogram bucket, counters.
void BM_HandlingScope(benchmark::State& state) {
  static actor_metrics m;
  std::size_t waiting = 0;
  for (auto _ : state) {
    handling_scope scope{m, waiting++ & 7};
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HandlingScope)->ThreadRange(1, 2)->UseRealTime();

// What every HTTP request pays: route classification and its counters.
void BM_HttpRecord(benchmark::State& state) {
  static http_metrics m{route_labels()};
  for (auto _ : state)
    m.record(match("POST", "/events", true).label_index(), 200, 0.0004, 200, 180);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HttpRecord)->ThreadRange(1, 2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
  static histogram h = make_latency_histogram();
  double v = 0.0001;
  for (auto _ : state) {
    h.observe(v);
    v = v > 1 ? 0.0001 : v * 1.7;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve);

} // namespace

BENCHMARK_MAIN();
