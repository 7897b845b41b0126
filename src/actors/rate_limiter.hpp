// The rate limiter: token buckets (GCRA) per client address and per API key, in sharded
// tables that request threads use directly; an actor evicts idle buckets.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "core/gcra.hpp"
#include "obs/actor_metrics.hpp"

namespace ebuse {

/// A sharded table of buckets. Any thread consumes from an existing bucket (a CAS under
/// the shard's shared lock) or creates a new one (under its exclusive lock); the
/// limiter's actor sweeps idle ones.
class rate_table {
public:
  rate_table(rate_policy policy, std::size_t max_buckets, std::chrono::nanoseconds idle);

  /// Consumes from the bucket of `key` if it exists; false when there is none.
  bool try_consume(const rate_key& key, int64_t now_ns, rate_decision& out);

  /// Consumes, creating the bucket first if needed. A full shard is swept, and if still
  /// full its most rested buckets are dropped.
  rate_decision consume_or_insert(const rate_key& key, int64_t now_ns);

  /// Drops buckets idle (full again) for longer than the idle time; a full bucket is the
  /// same as no bucket, so this changes no decision. Returns the count.
  std::size_t sweep(int64_t now_ns);

  /// Buckets held.
  std::size_t size() const;

  std::atomic<uint64_t> allowed{0}; ///< requests allowed so far
  std::atomic<uint64_t> denied{0};  ///< requests denied so far

private:
  struct key_hash {
    std::size_t operator()(const rate_key& k) const noexcept {
      // splitmix64's finalizer over both halves: addresses differ in few bits.
      uint64_t h = k.hi * 0x9E3779B97F4A7C15ull ^ (k.lo + 0x632BE59BD9B4E019ull);
      h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
      h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
      return static_cast<std::size_t>(h ^ (h >> 31));
    }
  };
  struct alignas(64) shard {
    mutable std::shared_mutex mtx;
    std::unordered_map<rate_key, std::atomic<int64_t>, key_hash> buckets; ///< key -> TAT
  };
  static constexpr std::size_t shard_count = 16;

  shard& shard_of(const rate_key& key);
  rate_decision consume(std::atomic<int64_t>& tat, int64_t now_ns);
  std::size_t sweep_shard(shard& s, int64_t now_ns);

  gcra gcra_;
  int64_t idle_ns_;
  std::size_t max_per_shard_;
  std::array<shard, shard_count> shards_;
};

/// How to run the limiter.
struct rate_limiter_options {
  rate_policy per_ip;                      ///< RATE_LIMIT / RATE_BURST
  rate_policy per_key;                     ///< RATE_LIMIT_PER_KEY / RATE_BURST_PER_KEY
  std::size_t max_buckets = 100000;        ///< per table: bounds memory under floods
  std::chrono::nanoseconds idle = std::chrono::seconds(60); ///< evict after this at rest
  std::chrono::nanoseconds sweep_interval = std::chrono::seconds(1);
  /// The monotonic clock in nanoseconds (empty: steady_clock); tests set their own.
  std::function<int64_t()> clock;
};

/// The limiter: its actor and the tables it owns. Thread-safe.
class rate_limiter {
public:
  /// Spawns the actor. Each table exists only when its policy is enabled.
  static std::shared_ptr<rate_limiter> start(caf::actor_system& sys, rate_limiter_options opts);

  ~rate_limiter();

  /// Consumes one request of `key` in `scope`, on the calling thread: from its bucket,
  /// created first for a new client. Never waits for the actor.
  rate_decision check(rate_scope scope, const rate_key& key);

  /// Whether `scope` is limited at all.
  bool enabled(rate_scope scope) const noexcept;

  /// The table of `scope` (null when disabled), for figures and tests.
  const rate_table* table(rate_scope scope) const noexcept;

  /// Stops the actor. Idempotent.
  void stop();

  /// Figures of the owning actor.
  const actor_metrics& actor_stats() const noexcept {
    return *metrics_;
  }

  /// The clock the limiter runs on, in nanoseconds (rate_limiter_options::clock).
  int64_t now_ns() const;

private:
  rate_limiter() = default;

  rate_limiter_options opts_;
  std::shared_ptr<rate_table> tables_[2];
  limiter_actor actor_;
  std::atomic<bool> stopped_{false};
  std::shared_ptr<actor_metrics> metrics_ = std::make_shared<actor_metrics>();
};

/// The bucket key of an API key (a hash: the key itself is never stored).
rate_key rate_key_of_api_key(std::string_view api_key) noexcept;

} // namespace ebuse
