// Durable Streams in a tenant's SQLite file: schema, the writer's operations, reads.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/db.hpp"
#include "storage/stream_query.hpp"
#include "streams/types.hpp"

namespace ebuse {

/// Creates the stream tables and sets `PRAGMA user_version = 3`, in one transaction.
/// The step from schema version 2 to 3 of the event store's migration chain.
caf::error apply_streams_schema(sql::connection& db);

/// Per-tenant bounds.
struct stream_limits {
  int64_t max_streams = 10000;         ///< DS_MAX_STREAMS: streams a tenant may hold
  int64_t max_stream_bytes = 1LL << 30; ///< DS_MAX_STREAM_BYTES: size of one stream
};

/// The stream operations of the tenant writer. Each runs inside the transaction the
/// writer has open for its group (it never begins or commits one), decides with the
/// protocol layer, and writes only what the decision accepts: the data, the producer
/// state, Stream-Seq and closure of one append land together or not at all. Protocol
/// refusals are results; storage faults are errors (errc), which make the writer roll
/// the group back.
class stream_writer {
public:
  /// Prepares the statements on the writer's connection `db` (migrated).
  static caf::expected<std::unique_ptr<stream_writer>> open(sql::connection& db,
                                                            stream_limits limits);

  /// PUT: creates a stream or a fork, or confirms an identical one.
  caf::expected<streams::write_result> create(const streams::create_request& req,
                                              int64_t now_ms);

  /// POST: appends, appends and closes, or closes.
  caf::expected<streams::write_result> append(const streams::append_request& req,
                                              int64_t now_ms);

  /// DELETE: removes a stream, or soft-deletes it while forks read its data; deleting a
  /// fork removes sources that were waiting only for it.
  caf::expected<streams::write_result> remove(std::string_view path, int64_t now_ms);

  /// Records a read of stream `id` at `at_ms` (sliding TTL).
  caf::error touch(int64_t id, int64_t at_ms);

  /// Removes (or soft-deletes) every stream expired at `now_ms`; answers their ids.
  caf::expected<std::vector<int64_t>> expire(int64_t now_ms);

  /// Whether some live stream has a TTL or an Expires-At (a sweep may find work).
  bool may_expire() const noexcept {
    return expiring_ > 0;
  }

private:
  struct fork_plan;
  enum class lookup { live, absent, soft_deleted };

  stream_writer() = default;

  caf::expected<lookup> find_live(std::string_view path, int64_t now_ms,
                                  streams::stream_meta& out);
  caf::error drop(const streams::stream_meta& s);
  caf::error hard_delete(int64_t id);
  caf::error insert_stream(streams::stream_meta& s, int64_t now_ms);
  caf::error insert_row(int64_t stream_id, streams::offset& tail, int64_t messages,
                        std::string_view data);
  caf::error save_state(const streams::stream_meta& s, int64_t now_ms);
  caf::error save_producer(int64_t stream_id, const std::string& id,
                           const streams::producer_state& st, int64_t now_ms);
  caf::expected<streams::write_result> create_new(const streams::create_request& req,
                                                  int64_t now_ms);
  caf::expected<streams::write_result> create_fork(const streams::create_request& req,
                                                   int64_t now_ms);
  caf::expected<streams::write_result> plan_fork(const streams::create_request& req,
                                                 int64_t now_ms, fork_plan& plan);
  caf::expected<streams::write_result> confirm(const streams::stream_meta& s,
                                               const streams::create_request& req);
  caf::error count_streams();

  sql::connection* db_ = nullptr;
  std::unique_ptr<stream_query> query_;
  stream_limits limits_;
  int64_t streams_ = 0;  ///< rows in ds_streams (soft-deleted ones hold data too)
  int64_t expiring_ = 0; ///< live streams with an expiry, as of the last count
  sql::statement insert_stream_;
  sql::statement insert_row_;
  sql::statement save_state_;
  sql::statement save_producer_;
  sql::statement touch_;
  sql::statement soft_delete_;
  std::vector<sql::statement> delete_; ///< data, producers, the stream row
  sql::statement expired_;
};

/// The reads of a tenant reader: a consistent snapshot of a stream's metadata and data.
class stream_reader {
public:
  /// Prepares the statements on a reader's connection `db`.
  static caf::expected<std::unique_ptr<stream_reader>> open(sql::connection& db);

  /// GET or HEAD at `now_ms` (expired streams are absent, or gone while forked).
  caf::expected<streams::read_result> read(const streams::read_request& req, int64_t now_ms);

private:
  stream_reader() = default;

  caf::error read_rows(const streams::read_request& req, streams::offset from,
                       streams::read_result& out);

  sql::connection* db_ = nullptr;
  std::unique_ptr<stream_query> query_;
  sql::statement begin_;
  sql::statement end_;
};

} // namespace ebuse
