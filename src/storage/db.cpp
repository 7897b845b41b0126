// RAII SQLite connection and statement wrappers; every return code is checked.
#include "storage/db.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include <mutex>

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/errc.hpp"

namespace ebuse::sql {

// -- statement ----------------------------------------------------------------

statement::statement(statement&& other) noexcept
  : stmt_(std::exchange(other.stmt_, nullptr)), bind_rc_(std::exchange(other.bind_rc_, 0)) {
}

statement& statement::operator=(statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_rc_ = std::exchange(other.bind_rc_, 0);
  }
  return *this;
}

statement::~statement() {
  sqlite3_finalize(stmt_);
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_rc_ = SQLITE_OK;
}

int statement::note(int rc) noexcept {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK)
    bind_rc_ = rc;
  return rc;
}

int statement::bind_int64(int idx, int64_t value) noexcept {
  return note(sqlite3_bind_int64(stmt_, idx, value));
}

namespace {

// SQLite takes lengths as int; a longer value would wrap to a negative length, which
// for text means "up to the first NUL".
bool fits_int(std::string_view value) noexcept {
  return value.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

} // namespace

int statement::bind_text(int idx, std::string_view value) noexcept {
  if (!fits_int(value))
    return note(SQLITE_TOOBIG);
  return note(sqlite3_bind_text(stmt_, idx, value.data(), static_cast<int>(value.size()),
                                SQLITE_STATIC));
}

int statement::bind_blob(int idx, std::string_view value) noexcept {
  if (!fits_int(value))
    return note(SQLITE_TOOBIG);
  // A zero-length blob needs a non-null pointer, else SQLite binds NULL.
  static const char empty = 0;
  return note(sqlite3_bind_blob(stmt_, idx, value.empty() ? &empty : value.data(),
                                static_cast<int>(value.size()), SQLITE_STATIC));
}

int statement::step() noexcept {
  if (bind_rc_ != SQLITE_OK)
    return bind_rc_;
  return sqlite3_step(stmt_);
}

int64_t statement::column_int64(int col) const noexcept {
  return sqlite3_column_int64(stmt_, col);
}

std::string_view statement::column_text(int col) const noexcept {
  auto ptr = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  auto len = sqlite3_column_bytes(stmt_, col);
  return ptr ? std::string_view{ptr, static_cast<size_t>(len)} : std::string_view{};
}

std::string_view statement::column_blob(int col) const noexcept {
  auto ptr = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  auto len = sqlite3_column_bytes(stmt_, col);
  return ptr ? std::string_view{ptr, static_cast<size_t>(len)} : std::string_view{};
}

bool statement::column_is_null(int col) const noexcept {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

// -- connection ---------------------------------------------------------------

connection::connection(connection&& other) noexcept
  : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {
}

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    path_ = std::move(other.path_);
  }
  return *this;
}

connection::~connection() {
  sqlite3_close_v2(db_);
}

namespace {

// Every connection is owned by one thread (SQLITE_OPEN_NOMUTEX), but SQLite's memory
// statistics still take a process-wide mutex on each of its allocations: with several
// writers and readers that lock is contended on every row. Nothing here reads the
// statistics. sqlite3_config only works before SQLite initialises, which the first
// open does; if something else initialised it first, the default stays.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

} // namespace

caf::expected<connection> connection::open(const std::string& path, bool read_only,
                                           bool create) {
  configure_sqlite_once();
  if (!read_only && create) {
    // Create the file ourselves so that it never exists with a looser mode;
    // SQLite gives the -wal and -shm files the mode of the database file.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
      ::close(fd);
    else if (errno != EEXIST)
      return error_from_code(SQLITE_CANTOPEN,
                             "cannot create " + path + ": " + std::strerror(errno));
  }
  connection result;
  result.path_ = path;
  int flags = SQLITE_OPEN_NOMUTEX
              | (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  int rc = sqlite3_open_v2(path.c_str(), &result.db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = "open " + path + ": "
                      + (result.db_ ? sqlite3_errmsg(result.db_) : sqlite3_errstr(rc));
    return error_from_code(rc, std::move(msg));
  }
  sqlite3_extended_result_codes(result.db_, 1);
  return result;
}

caf::expected<int> checkpoint_passive(connection& db) {
  int log_frames = 0;
  int done_frames = 0;
  int rc = sqlite3_wal_checkpoint_v2(db.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                     &log_frames, &done_frames);
  if (rc == SQLITE_OK || rc == SQLITE_BUSY)
    return std::max(done_frames, 0);
  return db.error_from(rc, "checkpoint");
}

caf::error connection::exec(const char* sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &msg);
  if (rc == SQLITE_OK)
    return caf::none;
  std::string text = std::string{sql} + ": " + (msg ? msg : sqlite3_errstr(rc));
  sqlite3_free(msg);
  return error_from_code(sqlite3_extended_errcode(db_), std::move(text));
}

caf::expected<statement> connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK)
    return error_from(rc, "prepare");
  return statement{stmt};
}

caf::expected<int64_t> connection::query_int64(const char* sql) {
  auto stmt = prepare(sql);
  if (!stmt)
    return std::move(stmt.error());
  int rc = stmt->step();
  if (rc == SQLITE_ROW)
    return stmt->column_int64(0);
  if (rc == SQLITE_DONE)
    return int64_t{0};
  return error_from(rc, sql);
}

caf::error connection::error_from(int rc, const char* what) const {
  return error_from_code(rc, std::string{what} + " (" + path_
                               + "): " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
}

caf::error step_done(connection& db, statement& st, const char* what) {
  int rc = st.step();
  st.reset();
  if (rc != SQLITE_DONE)
    return db.error_from(rc, what);
  return caf::none;
}

caf::error error_from_code(int rc, std::string message) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return make_error(errc::storage_full, std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return make_error(errc::storage_busy, std::move(message));
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_NOLFS:
      return make_error(errc::storage_unavailable, std::move(message));
    default:
      return make_error(errc::internal, std::move(message));
  }
}

} // namespace ebuse::sql
