// Coalesces identical event page loads: the long-polls one commit wakes share one load.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <caf/expected.hpp>

#include "actors/tenant.hpp"
#include "core/type_filter.hpp"
#include "storage/event_store.hpp"

namespace ebuse {

/// A page shared by every caller of one load.
using shared_page = std::shared_ptr<const event_page>;

/// Single-flight loads of event pages, keyed by everything that decides a page (tenant,
/// range, limit, filter, and the published head the caller saw): the first caller of a key
/// loads, callers of the same key meanwhile wait for that load, and callers shortly after
/// get its page too. A page for a head holds every event up to that head, and events
/// never change under a head, so a page found this way answers any caller of its key.
/// Errors go to the callers of that load only and are never kept. Memory is bounded: at
/// most `max_pages` finished pages of at most `max_bytes` in total, each for `keep`.
class page_flight {
public:
  struct limits {
    std::size_t max_pages = 64;
    std::size_t max_bytes = std::size_t{8} << 20;
    std::chrono::milliseconds keep{200};
  };

  page_flight() = default;
  explicit page_flight(limits l) : limits_(l) {
  }

  /// The page of `key`: from a load of the same key in flight or finished within `keep`,
  /// else from `load()`, run on this thread while later callers of `key` wait for it.
  caf::expected<shared_page> get(const std::string& key,
                                 const std::function<caf::expected<event_page>()>& load);

  /// The key of a page: everything that decides it, with the head `t` has published now
  /// (its caller's view; a page loaded at that head holds every event up to it).
  static std::string key_of(const tenant& t, int64_t from, int64_t to, int64_t limit,
                            const type_filter& types);

  /// Finished pages kept now (for tests).
  std::size_t kept() const;

  /// The instance the HTTP readers share.
  static page_flight& shared();

private:
  struct entry {
    bool done = false;
    caf::expected<shared_page> result{shared_page{}};
    std::chrono::steady_clock::time_point finished;
    std::size_t bytes = 0;
    uint64_t seq = 0;
  };

  void erase(const std::string& key, const entry& e);
  void keep_bounded();

  limits limits_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  std::unordered_map<std::string, std::shared_ptr<entry>> entries_;
  // Finished pages, oldest first, by (key, seq): an item whose entry has since been
  // replaced or dropped is skipped when it comes up.
  std::deque<std::pair<std::string, uint64_t>> order_;
  std::size_t bytes_ = 0;
  uint64_t next_seq_ = 0;
};

} // namespace ebuse
