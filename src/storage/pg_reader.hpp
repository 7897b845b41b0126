// The read side of the PostgreSQL store: reader connections and their bounded pool.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/event_store.hpp"
#include "storage/pg_session.hpp"
#include "storage/pg_store.hpp"

namespace ebuse {

/// A stored subscription position with the time it was last written.
struct subscription_row {
  std::string id;
  int64_t position = 0;
  int64_t updated_at_us = 0; ///< Unix time in microseconds
};

/// One reader connection, for any tenant. Each call is one autocommit statement (no
/// transaction stays open between calls). Connects on first use and again after a loss;
/// never throws.
class pg_reader {
public:
  /// A reader of `url` (validated); connects on first use.
  pg_reader(const std::string& url, const pg_options& opts = {});

  /// Renders up to `limit` events of `tenant` with position in [from, to] (to < 0: no
  /// upper bound) into `page`, ordered by position, exactly as store_reader::load does
  /// (with `ndjson`, one event per line); with `types`, only the events that pass it
  /// (up to `limit` of them).
  caf::error load(const std::string& tenant, int64_t from, int64_t to, int64_t limit,
                  event_page& page, bool ndjson = false, const type_filter* types = nullptr);

  /// The tenant's committed head (0 when empty).
  caf::expected<int64_t> max_position(const std::string& tenant);

  /// Every stored subscription position of the tenant, ordered by id.
  caf::expected<std::vector<std::pair<std::string, int64_t>>>
  subscriptions(const std::string& tenant);

  /// Up to `limit` subscriptions with id > `after` (bytewise), ordered by id.
  caf::expected<std::vector<subscription_row>>
  subscriptions_page(const std::string& tenant, const std::string& after, int64_t limit);

  /// Deletes idempotency keys older than `ttl` (all tenants); answers how many.
  caf::expected<int64_t> sweep_idempotency_keys(std::chrono::seconds ttl);

  /// Cheap round trip for /health.
  caf::error ping();

  /// Drops the connection (tests; the next call reconnects).
  void disconnect() noexcept {
    session_.reset();
  }

private:
  caf::expected<pg::result> run(const char* name, const pg::params& p);

  pg::session session_;
  pg::params params_;
};

/// A bounded pool of readers shared by every tenant of a node.
class pg_reader_pool {
public:
  /// A pool of `opts.readers` readers of `url` (connected on first use).
  pg_reader_pool(const std::string& url, const pg_options& opts = {});

  /// A borrowed reader, given back when the lease ends.
  class lease {
  public:
    lease(pg_reader_pool* pool, std::unique_ptr<pg_reader> r) noexcept
      : pool_(pool), reader_(std::move(r)) {
    }
    lease(lease&&) noexcept = default;
    lease& operator=(lease&&) = delete;
    ~lease();
    /// The reader.
    pg_reader* operator->() const noexcept {
      return reader_.get();
    }
    pg_reader& operator*() const noexcept {
      return *reader_;
    }

  private:
    pg_reader_pool* pool_;
    std::unique_ptr<pg_reader> reader_;
  };

  /// Borrows a reader, waiting at most `wait` for one to be given back; storage_busy
  /// when none is free in time.
  caf::expected<lease> acquire(std::chrono::milliseconds wait);

  /// Readers in the pool.
  std::size_t size() const noexcept {
    return size_;
  }

private:
  void give_back(std::unique_ptr<pg_reader> r);

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pg_reader>> idle_;
  std::size_t size_;
};

} // namespace ebuse
