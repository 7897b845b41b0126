// The event store on SQLite: schema, migrations, appends (writer) and reads (readers).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "core/type_filter.hpp"
#include "storage/db.hpp"
#include "storage/event_types.hpp"
#include "storage/log_writer.hpp"

namespace ebuse {

/// A page of events rendered as wire JSON objects joined by commas (no brackets).
struct event_page {
  std::string json;
  int64_t count = 0;         ///< events in the page
  int64_t last_position = 0; ///< position of the last event (0 when empty)
};

/// A stored subscription position with the time it was last saved.
struct subscription_entry {
  std::string id;
  int64_t position = 0;
  int64_t updated_ms = 0; ///< unix ms; 0: saved before the file recorded it
};

/// Tunables of a store connection.
struct store_options {
  /// WAL size (pages) at which the writer has the WAL checkpointed, off its commit
  /// path; 0 leaves checkpoints to an outside replicator (Litestream).
  int wal_autocheckpoint = 1000;
  /// Page-cache size of the writer's connection as PRAGMA cache_size (negative: KiB).
  int cache_size = -64000;
  /// Page-cache size of each reader's connection. Readers scan: a page is read once,
  /// and the kernel caches the file anyway. A large cache here only fills up, by its
  /// whole size per reader connection over one long stream.
  int reader_cache_size = -4000;
  /// How long an idempotency key is honoured (IDEMPOTENCY_TTL), in ms.
  int64_t idempotency_ttl_ms = int64_t{24} * 3600 * 1000;
  /// How long a statement waits for a lock held by another connection (ms).
  int busy_timeout_ms = 5000;
  /// Largest database size in pages (PRAGMA max_page_count on the writer; 0: SQLite's
  /// default). A write past it fails with SQLITE_FULL (507) as on a full disk: a
  /// per-tenant quota, and how the tests simulate a full disk.
  int64_t max_page_count = 0;
};

/// The schema version this build writes (PRAGMA user_version): 1 events and
/// subscriptions, 2 reserved for the live-consumer tables, 3 Durable Streams.
constexpr int64_t schema_version = 3;

/// The read-write side. Exactly one per database file, owned by the tenant writer.
class store_writer final : public log_writer {
public:
  /// Opens (creating if needed, mode 0600) and migrates the database at `path`.
  static caf::expected<std::unique_ptr<store_writer>>
  open(const std::string& path, const store_options& opts = {});

  /// Starts a write transaction (BEGIN IMMEDIATE).
  caf::error begin();
  /// Commits; on failure the transaction is rolled back.
  caf::error commit();
  /// Rolls back the open transaction, if any.
  void rollback() noexcept;

  /// log_writer::apply on SQLite (event_group.cpp): the group's events go in with
  /// insert_rows, the idempotency keys and subscription writes in the same transaction.
  caf::expected<group_outcome> apply(const write_group& group,
                                     const in_transaction& inside = {}) override;

  /// Inserts `rows` in order inside the open transaction, several rows per INSERT
  /// statement: per row that saves a statement execution and an update of
  /// sqlite_sequence (AUTOINCREMENT), a large share of a row's cost. Positions are
  /// consecutive (the only writer, one transaction): [first, last].
  caf::expected<append_result> insert_rows(const std::vector<const new_event*>& rows);

  /// Imports `events` in one transaction of its own, keeping their positions, provided
  /// the committed head is still `expected_head` (else errc::tenant_not_empty: some
  /// other write came first) and the positions increase from above it (else
  /// errc::invalid_event). Gaps are kept as they are. The head becomes the last one.
  caf::expected<append_result> import_events(const std::vector<positioned_event>& events,
                                             int64_t expected_head) override;

  /// Upserts a subscription position inside the open transaction.
  caf::error save_subscription(std::string_view id, int64_t position);

  /// Deletes up to `max_rows` idempotency keys created before `before_ms` (unix ms),
  /// in a transaction of its own; answers how many went.
  caf::expected<int64_t> sweep_idempotency_keys(int64_t before_ms, int64_t max_rows) override;

  /// Deletes a subscription position inside the open transaction (none: no change).
  caf::error delete_subscription(std::string_view id);

  /// The stream operations on this connection, run inside apply()'s transaction.
  caf::expected<std::unique_ptr<stream_writer>> open_streams(const stream_limits& limits) override;

  /// Highest committed position (0 when empty), tracked without SQL after open.
  int64_t head() const noexcept override {
    return head_;
  }

  /// Publishes `pos` as committed head; called by the owner after a successful commit.
  void set_head(int64_t pos) noexcept {
    head_ = pos;
  }

  /// Checkpoints and truncates the WAL, waiting up to the busy timeout for other
  /// connections to leave it. errc::storage_busy when they did not: what was not copied
  /// stays in the WAL, safe, and the next open or checkpoint takes it.
  caf::error checkpoint() override;

  /// Checkpoints what it can without waiting for readers (PASSIVE).
  caf::error checkpoint_passive() override;

  /// Frames in the WAL after the last commit. SQLite's own automatic checkpoint (which
  /// would run inside COMMIT, delaying every write of the group) is off: the owner
  /// decides when and where to checkpoint from this.
  int wal_frames() const noexcept override {
    return wal_frames_;
  }

  /// The WAL size (pages) from which a checkpoint is due; 0: never (options).
  int wal_threshold() const noexcept override {
    return wal_threshold_;
  }

  /// The database path.
  const std::string& path() const noexcept {
    return db_.path();
  }

  /// The database path.
  const std::string& describe() const noexcept override {
    return db_.path();
  }

  /// The connection, for the stream operations that share the writer's transaction.
  sql::connection& connection() noexcept {
    return db_;
  }

private:
  store_writer() = default;

  // Prepares `st` from `text` unless it is already.
  caf::error prepare_once(sql::statement& st, const char* text);
  // Decides each append of `g` from the head and the stored keys; fills rows_.
  caf::error decide(const write_group& g, group_outcome& out);
  // Looks `claim` up: replayed or key_reused into `o`, or false when not stored (or expired).
  caf::expected<bool> stored_key(const idempotency_claim& claim, append_outcome& o);
  // Inserts rows_ and fixes the positions of `out` to those SQLite assigned.
  caf::error insert_decided(group_outcome& out);
  // Stores the keys of the applied appends, several per statement.
  caf::error write_keys(const write_group& g, const group_outcome& out);
  // write_keys, then the subscription writes.
  caf::error write_keys_and_subscriptions(const write_group& g, const group_outcome& out);

  sql::connection db_; // declared first: destroyed after the statements
  sql::statement begin_;
  sql::statement commit_;
  sql::statement rollback_;
  sql::statement insert_;   // one row
  sql::statement insert8_;  // 8 rows
  sql::statement insert64_; // 64 rows
  sql::statement save_sub_;
  sql::statement sweep_keys_;
  sql::statement import_[3]; // 1, 8 and 64 rows with their positions; prepared on first use
  sql::statement key_get_;    // the group statements below: prepared on first use
  sql::statement key_put_;    // one key
  sql::statement key_put8_;   // 8 keys
  sql::statement sub_delete_;
  std::vector<const new_event*> rows_; // a group's events, reused across groups
  std::vector<std::string> rendered_;  // a group's responses stored with their keys
  // Per append of a group: the earlier append of the group with the same key and body.
  std::vector<std::size_t> repeat_of_;
  std::vector<std::size_t> keyed_; // a group's appends whose keys are stored
  static constexpr std::size_t no_repeat = static_cast<std::size_t>(-1);
  int64_t key_ttl_ms_ = 0;
  int64_t head_ = 0;
  int wal_frames_ = 0;
  int wal_threshold_ = 0;
};

/// A read-only connection, one per tenant reader.
class store_reader {
public:
  /// Opens `path` read-only; the writer must have created and migrated it.
  static caf::expected<std::unique_ptr<store_reader>>
  open(const std::string& path, const store_options& opts = {});

  /// Renders up to `limit` events with position in [from, to] (to < 0: no upper bound)
  /// into `page`, ordered by position: separated by commas, or with `ndjson` each
  /// followed by a newline (one event per line, whatever its stored data holds). With a
  /// non-empty `types`, only events whose type passes it (positions keep their gaps).
  caf::error load(int64_t from, int64_t to, int64_t limit, event_page& page,
                  bool ndjson = false, const type_filter* types = nullptr);

  /// Highest position in the file (0 when empty).
  caf::expected<int64_t> max_position();

  /// Reads the file's first bytes from disk, past every page cache: an error (not a
  /// database) when they are not SQLite's header. A file overwritten while its pages sit
  /// in a connection's cache answers reads until the cache is dropped; this sees it at
  /// once. A file that cannot be read here is left to the reads to judge.
  caf::error check_header() const;

  /// Every stored subscription position.
  caf::expected<std::vector<std::pair<std::string, int64_t>>> subscriptions();

  /// Up to `limit` subscriptions with an id after `after` (bytewise), ordered by id.
  caf::expected<std::vector<subscription_entry>> subscription_page(std::string_view after,
                                                                 int64_t limit);

  /// The connection, for stream reads.
  sql::connection& connection() noexcept {
    return db_;
  }

private:
  store_reader() = default;

  /// The statement of a filter with `exact` exact types and `prefixes` prefixes,
  /// prepared on first use and kept: a consumer repeats its filter.
  caf::expected<sql::statement*> filtered_statement(std::size_t exact, std::size_t prefixes);

  sql::connection db_;
  sql::statement load_bounded_;
  sql::statement max_pos_;
  std::map<std::pair<std::size_t, std::size_t>, sql::statement> filtered_;
};

/// Shares a page-cache budget (PAGE_CACHE_BYTES) over every connection that may be open
/// at once: half to `writers` writer connections (one per open tenant), half to `readers`
/// pooled read-only ones, as each connection's cache_size, never above what `opts` asks
/// and at least 64 KiB. Per connection, because SQLite's process-wide soft heap limit
/// acts only with its memory statistics, which cost a mutex on every allocation. A
/// budget of 0 keeps `opts`.
store_options share_page_cache(store_options opts, int64_t budget_bytes, int64_t writers,
                               int64_t readers);

} // namespace ebuse
