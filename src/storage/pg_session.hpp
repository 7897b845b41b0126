// A connection that reconnects after a loss and re-prepares its statements.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/expected.hpp>

#include "storage/pg_conn.hpp"

namespace ebuse::pg {

/// A named statement to prepare on every (re)connection.
struct statement_def {
  const char* name;
  std::string sql;
};

/// One logical connection to PostgreSQL. After the connection is lost (PostgreSQL
/// restarted, network cut), the next get() connects again; while PostgreSQL stays
/// unreachable, get() fails at once with storage_unavailable until retry_interval has
/// passed since the last attempt, so callers answer 503 quickly instead of queueing up
/// behind connect attempts. State that lives in a session (prepared statements) is
/// restored on reconnect; callers keep no other state in it.
class session {
public:
  session(std::string url, conn_options opts, std::vector<statement_def> statements)
    : url_(std::move(url)), opts_(opts), statements_(std::move(statements)) {
  }

  /// The open connection, connecting first if needed.
  caf::expected<connection*> get();

  /// Whether a connection is currently open.
  bool connected() const noexcept {
    return conn_.ok();
  }

  /// Closes the connection (after a protocol failure, or to test reconnects).
  void reset() noexcept {
    conn_.close();
  }

  /// Rolls back an open transaction after a failed statement; closes the connection if
  /// even that fails, so the next get() starts clean.
  void abort_transaction() noexcept;

  /// The URL this session connects to.
  const std::string& url() const noexcept {
    return url_;
  }

private:
  std::string url_;
  conn_options opts_;
  std::vector<statement_def> statements_;
  connection conn_;
  std::chrono::steady_clock::time_point last_failure_{};
  caf::error last_error_;
};

} // namespace ebuse::pg
