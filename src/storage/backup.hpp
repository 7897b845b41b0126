// Online backup of a database file: a consistent snapshot copied beside running writers.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

namespace ebuse {

/// How a snapshot is taken.
struct snapshot_options {
  /// Pages copied per step; between steps the copy checks for cancellation.
  int pages_per_step = 256;
  /// Free space that must remain on the file system once the copy is written: a backup
  /// must never take the space the tenants' writes need. 0: only the copy must fit.
  int64_t keep_free_bytes = 64 << 20;
  /// Largest copy accepted (bytes); 0: no limit besides free space.
  int64_t max_bytes = 0;
};

/// A finished snapshot: an open file that is no longer linked anywhere, so its space
/// returns to the file system when it is closed, however the download ends.
class snapshot_file {
public:
  snapshot_file() = default;
  snapshot_file(snapshot_file&& other) noexcept;
  snapshot_file& operator=(snapshot_file&& other) noexcept;
  snapshot_file(const snapshot_file&) = delete;
  snapshot_file& operator=(const snapshot_file&) = delete;
  ~snapshot_file();

  /// Reads up to `len` bytes at `offset`; the number read, or -1.
  int64_t read_at(int64_t offset, char* buf, std::size_t len) const noexcept;

  int fd = -1;               ///< the open, unlinked copy
  int64_t bytes = 0;         ///< its size
  int64_t pages = 0;         ///< database pages copied
  int64_t last_position = 0; ///< highest event position in the snapshot (0: none)
  int64_t steps = 0;         ///< backup steps taken
  double seconds = 0;        ///< time of the whole copy
  double longest_step = 0;   ///< longest single step, seconds
};

/// Copies the database at `db_path` into a new file `temp_path` (same file system, so
/// that its space is bounded by the free-space check) with SQLite's online backup API,
/// `pages_per_step` pages at a time, all from one read transaction: the copy is the
/// database as of its first step, and writers on other connections go on (WAL mode)
/// without waiting for it. Once done the file is opened, unlinked and returned. On
/// failure or when `cancel` becomes true the temporary file is removed.
///
/// Errors: errc::backup_no_space (the copy would not fit, or exceeds max_bytes),
/// errc::cancelled (cancelled), storage errors of the source or the copy.
caf::expected<snapshot_file> snapshot_database(const std::string& db_path,
                                               const std::string& temp_path,
                                               const snapshot_options& opts,
                                               const std::atomic<bool>& cancel);

/// A fresh temporary file name for a backup of `db_path`, in its directory, starting
/// with backup_temp_prefix(db_path).
std::string backup_temp_path(const std::string& db_path);

/// `<dir>/.<file name>.backup-`: the prefix of every backup temporary of `db_path`.
/// Tenant names never start with a dot, so no tenant file can take such a name.
std::string backup_temp_prefix(const std::string& db_path);

/// Removes temporaries of `db_path` that a killed process left behind. Only call while
/// no backup of that file is running. Returns how many were removed.
int remove_stale_backups(const std::string& db_path);

} // namespace ebuse
