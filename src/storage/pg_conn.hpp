// RAII libpq connection, results and binary parameters; errors as errc, never exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

struct pg_conn;
struct pg_result;

namespace ebuse::pg {

/// A query result; cleared on destruction. Move-only.
class result {
public:
  result() = default;
  explicit result(pg_result* res) noexcept : res_(res) {
  }
  result(result&& other) noexcept : res_(std::exchange(other.res_, nullptr)) {
  }
  result& operator=(result&& other) noexcept;
  result(const result&) = delete;
  result& operator=(const result&) = delete;
  ~result();

  /// Rows in the result.
  int rows() const noexcept;
  /// The bytes of a field (binary results: raw bytes; text results: the text form).
  std::string_view get(int row, int col) const noexcept;
  /// Whether a field is NULL.
  bool is_null(int row, int col) const noexcept;
  /// A binary integer field (int2, int4 or int8: big-endian on the wire).
  int64_t get_int64(int row, int col) const noexcept;
  /// A binary bool field.
  bool get_bool(int row, int col) const noexcept;
  /// Rows a command changed (INSERT, UPDATE, DELETE).
  int64_t affected() const noexcept;
  /// The raw handle.
  pg_result* raw() const noexcept {
    return res_;
  }

private:
  pg_result* res_ = nullptr;
};

/// The parameters of one statement, all sent in binary format: text as its raw bytes
/// (so embedded bytes need no escaping and no NUL terminator), int8 as 8 big-endian
/// bytes, bytea as raw bytes. Values are copied in.
class params {
public:
  /// Appends a text (or bytea) parameter.
  params& text(std::string_view value);
  /// Appends an int8 parameter.
  params& int64(int64_t value);
  /// Appends an int4 parameter.
  params& int32(int32_t value);
  /// Number of parameters.
  int size() const noexcept {
    return static_cast<int>(offsets_.size());
  }
  /// Removes every parameter, keeping the capacity.
  void clear() noexcept;

  /// Pointers, lengths and formats for libpq; valid until the next change.
  struct view {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
  };
  /// Fills `v` from the current parameters.
  void fill(view& v) const;

private:
  params& big_endian(uint64_t value, int bytes);

  std::string buf_;
  std::vector<std::pair<std::size_t, std::size_t>> offsets_; // (offset, length) in buf_
};

/// Settings applied to every connection.
struct conn_options {
  /// Longest wait for a lock (the tenant head row), as lock_timeout; 0: none.
  std::chrono::milliseconds lock_timeout{10000};
  /// Least time between two connection attempts after a failure: while PostgreSQL is
  /// down, calls fail at once with storage_unavailable instead of each waiting for a
  /// connect attempt.
  std::chrono::milliseconds retry_interval{250};
};

/// One connection to PostgreSQL. Move-only; closed on destruction.
class connection {
public:
  connection() = default;
  connection(connection&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {
  }
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  /// Connects to `url` (a validated DATABASE_URL) with UTF-8 client encoding and the
  /// settings of `opts`. Failure: storage_unavailable naming the server (no password).
  static caf::expected<connection> open(const std::string& url, const conn_options& opts = {});

  /// Whether the connection is open and usable as far as libpq knows.
  bool ok() const noexcept;
  /// Closes the connection.
  void close() noexcept;

  /// Prepares `sql` under `name`.
  caf::error prepare(const char* name, const std::string& sql);
  /// Runs SQL without parameters (one or more statements).
  caf::error exec(const char* sql);
  /// Runs SQL with parameters; binary results when `binary` is set.
  caf::expected<result> query(const char* sql, const params& p, bool binary = true);
  /// Runs prepared statement `name`; binary results.
  caf::expected<result> run(const char* name, const params& p);

  /// The raw handle.
  pg_conn* get() const noexcept {
    return conn_;
  }

  /// The error for a failed result `res` (may be null) of operation `what`.
  caf::error error_from(const pg_result* res, const char* what) const;

private:
  pg_conn* conn_ = nullptr;
};

/// Statements sent together and answered in one round trip (libpq pipeline mode). The
/// server runs them in order; after a failure it skips the rest up to the sync.
class pipeline {
public:
  /// Queues prepared statement `name`; returns its parameters to fill (the reference
  /// is valid until the next add).
  params& add(const char* name);
  /// Queues `sql` without parameters (BEGIN, COMMIT).
  void add_sql(const char* sql);
  /// Queued statements.
  std::size_t size() const noexcept {
    return size_;
  }
  /// Sends the queued statements with one sync, collects a result each into `results`
  /// (when given) and clears the queue. Returns the first failure.
  caf::error run(connection& c, std::vector<result>* results = nullptr);

private:
  struct entry {
    const char* name = nullptr; // prepared statement, or
    const char* sql = nullptr;  // SQL text without parameters
    params p;
  };
  std::vector<entry> entries_; // reused: their parameter buffers keep their capacity
  std::size_t size_ = 0;
  params::view view_;
};

/// Classifies a SQLSTATE: connection trouble and server shutdown → storage_unavailable,
/// disk full → storage_full, lock/statement timeouts and serialization failures →
/// storage_busy, data exceptions (class 22: text PostgreSQL cannot hold) → invalid_event,
/// anything else → internal.
caf::error error_from_sqlstate(std::string_view sqlstate, std::string message);

} // namespace ebuse::pg
