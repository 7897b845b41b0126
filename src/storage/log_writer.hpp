// The storage side of a tenant writer: what the writer actor needs from any backend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "core/errc.hpp"
#include "storage/write_group.hpp"

namespace ebuse {

class stream_writer;
struct stream_limits;

/// Work run inside a group's transaction after its appends and subscription writes,
/// before COMMIT (the Durable Streams operations of the group). An error rolls the
/// whole group back.
using in_transaction = std::function<caf::error()>;

/// The read-write side of one tenant's log, owned by exactly one tenant writer actor
/// and used from its thread only. Implemented by the SQLite store (store_writer) and
/// adaptable to the PostgreSQL one (pg_writer::apply has the same contract).
class log_writer {
public:
  virtual ~log_writer() = default;

  /// Applies `group` in one transaction: its appends in order, each all or nothing and
  /// checked against its expected head (the head the appends before it in the group
  /// left) and its idempotency key; then its subscription writes; then `inside`, if
  /// set; then COMMIT. Returns only after COMMIT succeeded; an error means nothing of
  /// the group was written (except storage_unavailable during COMMIT itself, after which
  /// the outcome is unknown). A backend without Durable Streams refuses a group with
  /// `inside` set (errc::storage_unavailable) and writes nothing.
  virtual caf::expected<group_outcome> apply(const write_group& group,
                                             const in_transaction& inside = {})
    = 0;

  /// The head this writer last committed (0 for an empty log).
  virtual int64_t head() const noexcept = 0;

  /// What the backend is, for logs: a file path or a tenant on a database.
  virtual const std::string& describe() const noexcept = 0;

  /// Imports events keeping their positions (see store_writer::import_events); backends
  /// that cannot answer errc::storage_unavailable.
  virtual caf::expected<append_result> import_events(const std::vector<positioned_event>&,
                                                     int64_t) {
    return make_error(errc::storage_unavailable, "import is not supported by this storage");
  }

  /// Deletes up to `max_rows` idempotency keys created before `before_ms` (unix ms);
  /// answers how many went. Backends that expire keys themselves answer 0.
  virtual caf::expected<int64_t> sweep_idempotency_keys(int64_t /*before_ms*/,
                                                        int64_t /*max_rows*/) {
    return int64_t{0};
  }

  /// Opens the Durable Streams operations on this writer's connection, run through
  /// apply()'s `inside`; backends without streams answer errc::storage_unavailable.
  virtual caf::expected<std::unique_ptr<stream_writer>> open_streams(const stream_limits&);

  // -- write-ahead log upkeep: optional, a backend without a local WAL keeps the defaults

  /// Frames in the WAL after the last commit.
  virtual int wal_frames() const noexcept {
    return 0;
  }

  /// The WAL size from which a checkpoint is due; 0: never, and the checkpoint calls
  /// below are not made.
  virtual int wal_threshold() const noexcept {
    return 0;
  }

  /// Checkpoints and truncates the WAL, waiting a bounded time for readers.
  virtual caf::error checkpoint() {
    return caf::none;
  }

  /// Checkpoints what it can without waiting for readers.
  virtual caf::error checkpoint_passive() {
    return caf::none;
  }
};

} // namespace ebuse
