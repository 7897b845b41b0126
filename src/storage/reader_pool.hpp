// The process-wide pool of read-only tenant connections, closed least recently used first.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/event_store.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

/// One read-only connection to a tenant's file, used by one job at a time.
struct reader_conn {
  std::unique_ptr<store_reader> store;
  std::unique_ptr<stream_reader> streams; ///< on store's connection, prepared on first use
  bool broken = false; ///< a storage fault was seen: closed instead of reused

  /// Prepares the stream statements unless they are.
  caf::error ensure_streams();

  ~reader_conn() {
    streams.reset(); // the statements go before their connection
  }
};

/// Idle read-only connections of every tenant, keyed by file. A job takes one (or opens
/// one) and gives it back; beyond `max_open` connections open (idle and in use) the
/// least recently given back idle ones are closed. Thread-safe.
class reader_pool {
public:
  /// READER_CONNECTIONS.
  explicit reader_pool(std::size_t max_open);

  reader_pool(const reader_pool&) = delete;
  reader_pool& operator=(const reader_pool&) = delete;

  /// An idle connection to `path`, or a new one (opened on the calling thread).
  caf::expected<std::unique_ptr<reader_conn>> acquire(const std::string& path,
                                                      const store_options& opts);

  /// Gives `conn` back (closes it if broken).
  void release(const std::string& path, std::unique_ptr<reader_conn> conn);

  /// Closes every idle connection to `path` (the tenant is stopping; none is in use).
  void close_file(const std::string& path);

  /// Connections open now, idle or in use.
  std::size_t open() const;
  /// The most that may be open.
  std::size_t max_open() const noexcept {
    return max_open_;
  }
  /// Acquisitions served by an idle connection.
  uint64_t hits() const noexcept {
    return hits_.load(std::memory_order_relaxed);
  }
  /// Connections opened.
  uint64_t opens() const noexcept {
    return opens_.load(std::memory_order_relaxed);
  }
  /// Idle connections closed to stay within max_open.
  uint64_t evictions() const noexcept {
    return evictions_.load(std::memory_order_relaxed);
  }

private:
  struct idle_entry {
    std::string path;
    std::unique_ptr<reader_conn> conn;
  };
  using lru_list = std::list<idle_entry>;

  // Moves idle connections beyond max_open (least recent first) into `out`.
  void evict_locked(lru_list& out);

  const std::size_t max_open_;
  mutable std::mutex mtx_;
  lru_list lru_; ///< guarded; front: the most recently given back
  std::unordered_multimap<std::string, lru_list::iterator> by_path_; ///< guarded
  std::size_t open_ = 0; ///< guarded: idle plus in use
  std::atomic<uint64_t> hits_{0};
  std::atomic<uint64_t> opens_{0};
  std::atomic<uint64_t> evictions_{0};
};

/// READER_CONNECTIONS by default.
constexpr std::size_t default_reader_connections = 256;

/// The process-wide pool of default size, for tenants given none (tools and tests).
std::shared_ptr<reader_pool> default_reader_pool();

} // namespace ebuse
