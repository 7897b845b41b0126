// The event store on PostgreSQL: one schema for all tenants; the writer of one tenant.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/pg_conn.hpp"
#include "storage/pg_session.hpp"
#include "storage/write_group.hpp"

namespace ebuse {

/// Tunables of the PostgreSQL store.
struct pg_options {
  /// Connection settings (lock timeout, reconnect floor).
  pg::conn_options conn;
  /// How long an idempotency key is honoured (SPEC §11 IDEMPOTENCY_TTL).
  std::chrono::seconds idempotency_ttl{24 * 3600};
  /// Reader connections in a pg_reader_pool.
  std::size_t readers = 4;
  /// Whether commits NOTIFY pg_head_channel. Only other nodes need it (a node knows its
  /// own commits), and PostgreSQL serializes the commits of all notifying transactions
  /// of a cluster (a cluster-wide lock held until each commit ends): a single node can
  /// turn it off.
  bool notify = true;
};

/// The NOTIFY channel on which every commit announces "<tenant> <head>".
constexpr const char* pg_head_channel = "ebuse_head";

/// The read-write side of one tenant on PostgreSQL: one connection, owned by the
/// tenant's writer. Several writers (on several nodes) may serve the same tenant: each
/// group transaction first locks the tenant's row in ebuse.heads, so the groups of all
/// writers run one after the other, each continuing from the head the previous one
/// committed. Positions are therefore unique, dense and in commit order. Never throws.
class pg_writer {
public:
  /// Connects to `url` (validated, schema migrated) and makes sure the tenant's head row
  /// exists. PostgreSQL down: storage_unavailable with a clear message.
  static caf::expected<std::unique_ptr<pg_writer>>
  open(const std::string& url, const std::string& tenant, const pg_options& opts = {});

  /// Applies `group` in one transaction: appends in order (each all-or-nothing, checked
  /// against its expected head and idempotency key), then subscription writes, then the
  /// new head with a NOTIFY on pg_head_channel. An error means nothing was written,
  /// except storage_unavailable during the commit itself, after which the outcome is
  /// unknown (as after a timeout). After a lost connection, the next call reconnects.
  caf::expected<group_outcome> apply(const write_group& group);

  /// The head this writer last committed or saw (0 before the first group); other
  /// nodes may have moved on since.
  int64_t head() const noexcept {
    return head_;
  }

  /// Deletes up to `max_rows` of the tenant's idempotency keys created before
  /// `before_ms` (unix ms), oldest first, in a transaction of its own; answers how many.
  caf::expected<int64_t> sweep_idempotency_keys(int64_t before_ms, int64_t max_rows);

  /// The committed head, read from PostgreSQL.
  caf::expected<int64_t> committed_head();

  /// The tenant this writer serves.
  const std::string& tenant() const noexcept {
    return tenant_;
  }

  /// Drops the connection (tests; the next call reconnects).
  void disconnect() noexcept {
    session_.reset();
  }

private:
  pg_writer(const std::string& url, std::string tenant, const pg_options& opts);

  // Answers a group that found no head row (and creates it).
  caf::error missing_head();
  // Decides each append from the locked head `head` and the key lookups in results_
  // (from index `first_key`); returns the events to insert.
  std::vector<const new_event*> decide(const write_group& g, int64_t head,
                                       std::size_t first_key, group_outcome& out);
  // Queues the group's writes after the lock: inserts, subscriptions, keys, head, COMMIT.
  void queue_writes(const write_group& g, const std::vector<const new_event*>& rows,
                    const group_outcome& out);
  // Checks the head update (result `advance_result`) and records the new head.
  caf::expected<group_outcome> finish(group_outcome out, int64_t head, std::size_t rows,
                                      std::size_t advance_result);

  std::string tenant_;
  pg_options opts_;
  pg::session session_;
  pg::pipeline pipe_;
  std::vector<pg::result> results_;
  std::vector<std::string> rendered_; // per append: the response stored with its key
  int64_t head_ = 0;
};

} // namespace ebuse
