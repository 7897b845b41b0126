// Costs of admitting a request: the rate-limiter check, client address resolution, and
// a request log line.
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/rate_limiter.hpp"
#include "core/key_digest.hpp"
#include "http/admission.hpp"
#include "http/client_ip.hpp"
#include "obs/logger.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;

namespace {

struct limiter_env {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<rate_limiter> lim;

  limiter_env() {
    rate_limiter_options opts;
    // Never denies, so every iteration does the full consume.
    opts.per_ip = {1000000000, 1000000000};
    opts.max_buckets = 1u << 22;
    lim = rate_limiter::start(sys, opts);
  }
  ~limiter_env() {
    lim->stop();
  }
};

limiter_env& env() {
  static auto* e = new limiter_env; // lives until exit: benchmarks share it
  return *e;
}

// A known client: one CAS on its bucket under the shard's shared lock.
void BM_LimiterKnownClient(benchmark::State& state) {
  auto& e = env();
  ip_address a;
  parse_ip("198.51.100." + std::to_string(state.thread_index()), a);
  auto key = rate_key_of_ip(a);
  e.lim->check(rate_scope::ip, key); // creates the bucket
  for (auto _ : state)
    benchmark::DoNotOptimize(e.lim->check(rate_scope::ip, key));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterKnownClient)->UseRealTime();
BENCHMARK(BM_LimiterKnownClient)->UseRealTime()->Threads(2);
BENCHMARK(BM_LimiterKnownClient)->UseRealTime()->Threads(8);

// Every thread hammering the same client: contention on one bucket word.
void BM_LimiterSameClient(benchmark::State& state) {
  auto& e = env();
  rate_key key{42, 42};
  e.lim->check(rate_scope::ip, key);
  for (auto _ : state)
    benchmark::DoNotOptimize(e.lim->check(rate_scope::ip, key));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterSameClient)->UseRealTime()->Threads(8);

// A new client every time (a flood of distinct addresses): its bucket is created under
// the shard's exclusive lock, on the calling thread.
void BM_LimiterNewClient(benchmark::State& state) {
  auto& e = env();
  static std::atomic<uint64_t> next{uint64_t{1} << 40};
  for (auto _ : state)
    benchmark::DoNotOptimize(e.lim->check(rate_scope::ip, rate_key{next.fetch_add(1), 7}));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterNewClient)->UseRealTime();

// The client address: peer parsed, checked against trusted proxies, X-Forwarded-For walked.
void BM_ResolveClientBehindProxy(benchmark::State& state) {
  trusted_proxies proxies;
  std::string err;
  trusted_proxies::parse("10.0.0.0/8, 192.168.0.0/16", proxies, err);
  std::vector<std::string_view> xff = {"203.0.113.7, 10.1.2.3"};
  for (auto _ : state) {
    ip_address peer;
    parse_ip("10.0.0.1", peer);
    auto c = resolve_client(peer, {}, xff, proxies);
    benchmark::DoNotOptimize(to_string(c));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ResolveClientBehindProxy);

// The SHA-256 digest of a presented API key, taken on every authenticated request.
void BM_KeyDigest(benchmark::State& state) {
  std::string key = "3f9c1a7e5b2d4c6e8a0f1b3d5c7e9a2b";
  for (auto _ : state) {
    key[0] = static_cast<char>('a' + (state.iterations() & 7));
    benchmark::DoNotOptimize(digest_of(key));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyDigest);

// One request log line into a file, through the buffered writer thread.
void BM_LogRequest(benchmark::State& state) {
  static test::temp_dir dir;
  static int fd = ::open(dir.file("requests.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (state.thread_index() == 0)
    log::set_output(fd);
  log::request_line line;
  line.method = "POST";
  line.path = "/events";
  line.status = 200;
  line.duration_ms = 0.123;
  line.bytes = 187;
  line.ip = "203.0.113.7";
  line.tenant = "customer-a";
  line.user_agent = "Go-http-client/1.1";
  for (auto _ : state)
    log::request(line);
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0)
    log::flush();
}
BENCHMARK(BM_LogRequest)->UseRealTime();
BENCHMARK(BM_LogRequest)->UseRealTime()->Threads(8);

} // namespace

BENCHMARK_MAIN();
