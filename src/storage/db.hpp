// RAII wrappers for a SQLite connection and its prepared statements.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/expected.hpp>

struct sqlite3;
struct sqlite3_stmt;

namespace ebuse::sql {

/// A prepared statement; finalized on destruction. Move-only.
class statement {
public:
  statement() = default;
  explicit statement(sqlite3_stmt* stmt) noexcept : stmt_(stmt) {
  }
  statement(statement&& other) noexcept;
  statement& operator=(statement&& other) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement();

  /// The raw handle (null when empty).
  sqlite3_stmt* get() const noexcept {
    return stmt_;
  }

  /// Resets the statement and clears its bindings, ready for the next use.
  void reset() noexcept;

  /// Binds a 64-bit integer to parameter `idx` (1-based). Every bind returns SQLite's
  /// result code, and the first failure is also kept: step() then fails with it instead
  /// of running with the parameter left NULL.
  int bind_int64(int idx, int64_t value) noexcept;
  /// Binds UTF-8 text without copying; `value` must outlive the step.
  int bind_text(int idx, std::string_view value) noexcept;
  /// Binds a blob without copying; `value` must outlive the step.
  int bind_blob(int idx, std::string_view value) noexcept;

  /// Steps once; returns the SQLite result code (SQLITE_ROW, SQLITE_DONE, ...), or the
  /// code of the first bind that failed since the last reset (then nothing runs).
  int step() noexcept;

  /// Column accessors for the current row.
  int64_t column_int64(int col) const noexcept;
  std::string_view column_text(int col) const noexcept;
  std::string_view column_blob(int col) const noexcept;
  bool column_is_null(int col) const noexcept;

private:
  int note(int rc) noexcept;

  sqlite3_stmt* stmt_ = nullptr;
  int bind_rc_ = 0; ///< first failed bind since the last reset (SQLITE_OK: none)
};

/// A connection; closed on destruction (statements must be destroyed first). Move-only.
class connection {
public:
  connection() = default;
  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Opens `path`. A read-write open creates a missing file with mode 0600 unless
  /// `create` is false (then a missing file is an error).
  static caf::expected<connection> open(const std::string& path, bool read_only,
                                        bool create = true);

  /// Runs one or more SQL statements without results.
  caf::error exec(const char* sql);

  /// Prepares `sql` for repeated use.
  caf::expected<statement> prepare(std::string_view sql);

  /// Runs a single-value query such as `PRAGMA user_version`.
  caf::expected<int64_t> query_int64(const char* sql);

  /// Converts SQLite result code `rc` of operation `what` to a domain error,
  /// attaching sqlite3_errmsg for the log.
  caf::error error_from(int rc, const char* what) const;

  /// The raw handle.
  sqlite3* get() const noexcept {
    return db_;
  }

  /// The path this connection was opened with.
  const std::string& path() const noexcept {
    return path_;
  }

private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// Checkpoints as much of the WAL as no reader still needs, without waiting (PASSIVE);
/// answers how many WAL frames are now in the database file. SQLITE_BUSY (another
/// checkpoint is running) is not an error.
caf::expected<int> checkpoint_passive(connection& db);

/// Steps `st` once, resets it, and converts anything but SQLITE_DONE into an error of
/// operation `what` on `db`.
caf::error step_done(connection& db, statement& st, const char* what);

/// Maps a SQLite (extended) result code to a domain error with `message`.
caf::error error_from_code(int rc, std::string message);

} // namespace ebuse::sql
