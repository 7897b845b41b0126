// GCRA buckets in sharded tables, and the actor that owns them.
#include "actors/rate_limiter.hpp"

#include <algorithm>
#include <mutex>
#include <string_view>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>

namespace ebuse {

rate_table::rate_table(rate_policy policy, std::size_t max_buckets,
                       std::chrono::nanoseconds idle)
  : gcra_(policy),
    idle_ns_(idle.count()),
    max_per_shard_(std::max<std::size_t>(1, max_buckets / shard_count)) {
}

rate_table::shard& rate_table::shard_of(const rate_key& key) {
  // The top bits: the map inside the shard uses the low ones.
  return shards_[key_hash{}(key) >> 60 & (shard_count - 1)];
}

// The decision is GCRA's (core/gcra.hpp); the bucket moves by compare-and-swap, so any
// thread may consume from it under the shard's shared lock.
rate_decision rate_table::consume(std::atomic<int64_t>& tat, int64_t now_ns) {
  int64_t old = tat.load(std::memory_order_relaxed);
  for (;;) {
    int64_t next;
    auto d = gcra_.decide(old, now_ns, next);
    if (!d.allowed) {
      denied.fetch_add(1, std::memory_order_relaxed);
      return d;
    }
    if (tat.compare_exchange_weak(old, next, std::memory_order_relaxed)) {
      allowed.fetch_add(1, std::memory_order_relaxed);
      return d;
    }
  }
}

bool rate_table::try_consume(const rate_key& key, int64_t now_ns, rate_decision& out) {
  auto& s = shard_of(key);
  std::shared_lock<std::shared_mutex> guard{s.mtx};
  auto i = s.buckets.find(key);
  if (i == s.buckets.end())
    return false;
  out = consume(i->second, now_ns);
  return true;
}

rate_decision rate_table::consume_or_insert(const rate_key& key, int64_t now_ns) {
  auto& s = shard_of(key);
  std::unique_lock<std::shared_mutex> guard{s.mtx};
  auto i = s.buckets.find(key);
  if (i == s.buckets.end()) {
    if (s.buckets.size() >= max_per_shard_ && sweep_shard(s, now_ns) == 0) {
      // A flood of distinct clients within the idle time: drop the most rested eighth
      // (lowest TAT). They lose at most their debt; memory stays bounded.
      std::vector<int64_t> tats;
      tats.reserve(s.buckets.size());
      for (auto& b : s.buckets)
        tats.push_back(b.second.load(std::memory_order_relaxed));
      auto cut = tats.begin() + static_cast<std::ptrdiff_t>(tats.size() / 8);
      std::nth_element(tats.begin(), cut, tats.end());
      int64_t limit = *cut;
      for (auto j = s.buckets.begin(); j != s.buckets.end();)
        j = j->second.load(std::memory_order_relaxed) <= limit ? s.buckets.erase(j) : std::next(j);
    }
    i = s.buckets.try_emplace(key, now_ns).first;
  }
  return consume(i->second, now_ns);
}

std::size_t rate_table::sweep_shard(shard& s, int64_t now_ns) {
  std::size_t dropped = 0;
  for (auto j = s.buckets.begin(); j != s.buckets.end();) {
    if (j->second.load(std::memory_order_relaxed) + idle_ns_ <= now_ns) {
      j = s.buckets.erase(j);
      ++dropped;
    } else {
      ++j;
    }
  }
  return dropped;
}

std::size_t rate_table::sweep(int64_t now_ns) {
  std::size_t dropped = 0;
  for (auto& s : shards_) {
    std::unique_lock<std::shared_mutex> guard{s.mtx};
    dropped += sweep_shard(s, now_ns);
  }
  return dropped;
}

std::size_t rate_table::size() const {
  std::size_t n = 0;
  for (auto& s : shards_) {
    std::shared_lock<std::shared_mutex> guard{s.mtx};
    n += s.buckets.size();
  }
  return n;
}

namespace {

int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

struct limiter_state {
  std::shared_ptr<rate_table> tables[2];
  std::chrono::nanoseconds sweep_interval;
  std::shared_ptr<actor_metrics> metrics;
  std::function<int64_t()> clock;
};

limiter_actor::behavior_type limiter_impl(limiter_actor::pointer self,
                                          std::shared_ptr<limiter_state> st) {
  self->delayed_send(self, st->sweep_interval, rate_sweep_cmd{});
  return {
    [self, st](rate_sweep_cmd) {
      handling_scope scope{*st->metrics, self->mailbox().size()};
      auto now = st->clock();
      for (auto& table : st->tables)
        if (table)
          table->sweep(now);
      self->delayed_send(self, st->sweep_interval, rate_sweep_cmd{});
    },
  };
}

} // namespace

std::shared_ptr<rate_limiter> rate_limiter::start(caf::actor_system& sys,
                                                  rate_limiter_options opts) {
  std::shared_ptr<rate_limiter> result{new rate_limiter};
  if (!opts.clock)
    opts.clock = steady_now_ns;
  result->opts_ = opts;
  auto st = std::make_shared<limiter_state>();
  st->sweep_interval = opts.sweep_interval;
  st->metrics = result->metrics_;
  st->clock = opts.clock;
  const rate_policy* policies[2] = {&opts.per_ip, &opts.per_key};
  for (int i = 0; i < 2; ++i)
    if (policies[i]->per_second > 0)
      st->tables[i] = result->tables_[i] =
        std::make_shared<rate_table>(*policies[i], opts.max_buckets, opts.idle);
  // Detached: a sweep walks every bucket of a large table, which must not hold up the
  // scheduler's threads. No request waits for this actor.
  result->actor_ = sys.spawn<caf::detached>(limiter_impl, st);
  return result;
}

rate_limiter::~rate_limiter() {
  stop();
}

void rate_limiter::stop() {
  if (!stopped_.exchange(true))
    caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

int64_t rate_limiter::now_ns() const {
  return opts_.clock();
}

bool rate_limiter::enabled(rate_scope scope) const noexcept {
  return tables_[static_cast<int>(scope)] != nullptr;
}

const rate_table* rate_limiter::table(rate_scope scope) const noexcept {
  return tables_[static_cast<int>(scope)].get();
}

rate_decision rate_limiter::check(rate_scope scope, const rate_key& key) {
  auto& table = tables_[static_cast<int>(scope)];
  rate_decision d;
  if (!table)
    return d;
  auto now = now_ns();
  if (table->try_consume(key, now, d))
    return d;
  // A new client: its bucket is made under the shard's exclusive lock, here, rather
  // than by a round trip to the actor (see docs/PERFORMANCE.md for both costs).
  return table->consume_or_insert(key, now);
}

rate_key rate_key_of_api_key(std::string_view api_key) noexcept {
  // Two independent 64-bit FNV-1a hashes; keys are authenticated before this, so
  // collisions cannot be chosen by a client.
  uint64_t a = 0xcbf29ce484222325ull, b = 0x84222325cbf29ce4ull;
  for (unsigned char c : api_key) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b ^ (c + 0x5bu)) * 0x100000001b3ull;
  }
  return {a, b};
}

} // namespace ebuse
