// SQLite online backup in small steps from one read transaction, into an unlinked file.
#include "storage/backup.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <utility>

#include <dirent.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/errc.hpp"
#include "storage/db.hpp"

namespace ebuse {

namespace {

using clock = std::chrono::steady_clock;

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string{"./"} : path.substr(0, slash + 1);
}

std::string base_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Free space left on the file system holding `path`'s directory, or -1.
int64_t free_bytes(const std::string& path) {
  struct statvfs vfs{};
  if (::statvfs(dir_of(path).c_str(), &vfs) != 0)
    return -1;
  return static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
}

caf::error check_space(const std::string& temp_path, int64_t bytes,
                       const snapshot_options& opts) {
  if (opts.max_bytes > 0 && bytes > opts.max_bytes)
    return make_error(errc::backup_no_space,
                      "the snapshot (" + std::to_string(bytes) + " bytes) exceeds the limit of "
                        + std::to_string(opts.max_bytes) + " bytes");
  auto avail = free_bytes(temp_path);
  if (avail >= 0 && avail - bytes < opts.keep_free_bytes)
    return make_error(errc::backup_no_space,
                      "the snapshot needs " + std::to_string(bytes) + " bytes; "
                        + std::to_string(avail) + " are free and "
                        + std::to_string(opts.keep_free_bytes) + " must stay free");
  return caf::none;
}

// The source side: a read-only connection that holds one read transaction open for the
// whole copy. Every step then reads the same snapshot; without it each step would take
// a new read lock, and any commit by the writer in between would restart the copy.
struct source {
  sql::connection db;
  int64_t last_position = 0;
  int64_t bytes = 0;

  caf::error open(const std::string& path) {
    auto conn = sql::connection::open(path, true, false);
    if (!conn)
      return std::move(conn.error());
    db = std::move(*conn);
    if (auto err = db.exec("PRAGMA busy_timeout=5000;BEGIN"))
      return err;
    // The first read starts the transaction: what it sees is what is copied.
    auto last = db.query_int64("SELECT COALESCE(MAX(position), 0) FROM events");
    if (!last)
      return std::move(last.error());
    last_position = *last;
    auto pages = db.query_int64("PRAGMA page_count");
    auto page_size = db.query_int64("PRAGMA page_size");
    if (!pages)
      return std::move(pages.error());
    if (!page_size)
      return std::move(page_size.error());
    bytes = *pages * *page_size;
    return caf::none;
  }
};

// Runs the backup steps from `src` into `dest`; fills the figures of `out`.
caf::error copy_steps(source& src, sql::connection& dest, const snapshot_options& opts,
                      const std::atomic<bool>& cancel, snapshot_file& out) {
  auto* b = sqlite3_backup_init(dest.get(), "main", src.db.get(), "main");
  if (!b)
    return dest.error_from(sqlite3_errcode(dest.get()), "backup init");
  auto started = clock::now();
  int rc = SQLITE_OK;
  int busy = 0;
  while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    if (cancel.load(std::memory_order_relaxed)) {
      sqlite3_backup_finish(b);
      return make_error(errc::cancelled, "backup cancelled");
    }
    // Neither side should be locked (a private copy, a source in its own read
    // transaction); should it happen anyway, wait briefly, and not forever.
    if (rc != SQLITE_OK) {
      if (++busy > 1000)
        break;
      sqlite3_sleep(5);
    }
    auto step_start = clock::now();
    rc = sqlite3_backup_step(b, opts.pages_per_step > 0 ? opts.pages_per_step : -1);
    double took = std::chrono::duration<double>(clock::now() - step_start).count();
    out.longest_step = std::max(out.longest_step, took);
    ++out.steps;
  }
  out.pages = sqlite3_backup_pagecount(b);
  sqlite3_backup_finish(b);
  out.seconds = std::chrono::duration<double>(clock::now() - started).count();
  if (rc != SQLITE_DONE)
    return dest.error_from(rc, "backup step");
  return caf::none;
}

// Opens the finished copy, then unlinks it: from here on only the descriptor holds it.
caf::error take_file(const std::string& temp_path, snapshot_file& out) {
  out.fd = ::open(temp_path.c_str(), O_RDONLY | O_CLOEXEC);
  int saved = errno;
  ::unlink(temp_path.c_str());
  if (out.fd < 0)
    return make_error(errc::storage_unavailable,
                      "cannot reopen " + temp_path + ": " + std::strerror(saved));
  struct stat st{};
  if (::fstat(out.fd, &st) != 0)
    return make_error(errc::storage_unavailable, "cannot stat the backup copy");
  out.bytes = static_cast<int64_t>(st.st_size);
  return caf::none;
}

} // namespace

snapshot_file::snapshot_file(snapshot_file&& other) noexcept {
  *this = std::move(other);
}

snapshot_file& snapshot_file::operator=(snapshot_file&& other) noexcept {
  if (this != &other) {
    if (fd >= 0)
      ::close(fd);
    fd = std::exchange(other.fd, -1);
    bytes = other.bytes;
    pages = other.pages;
    last_position = other.last_position;
    steps = other.steps;
    seconds = other.seconds;
    longest_step = other.longest_step;
  }
  return *this;
}

snapshot_file::~snapshot_file() {
  if (fd >= 0)
    ::close(fd);
}

int64_t snapshot_file::read_at(int64_t offset, char* buf, std::size_t len) const noexcept {
  for (;;) {
    auto n = ::pread(fd, buf, len, static_cast<off_t>(offset));
    if (n >= 0 || errno != EINTR)
      return n;
  }
}

caf::expected<snapshot_file> snapshot_database(const std::string& db_path,
                                               const std::string& temp_path,
                                               const snapshot_options& opts,
                                               const std::atomic<bool>& cancel) {
  source src;
  if (auto err = src.open(db_path))
    return err;
  if (auto err = check_space(temp_path, src.bytes, opts))
    return err;
  snapshot_file out;
  out.last_position = src.last_position;
  caf::error err;
  {
    auto dest = sql::connection::open(temp_path, false, true);
    if (!dest)
      return std::move(dest.error());
    // A scratch file, unlinked before anyone reads it: no journal, no syncs.
    err = dest->exec("PRAGMA journal_mode=OFF;PRAGMA synchronous=OFF");
    if (!err)
      err = copy_steps(src, *dest, opts, cancel, out);
  }
  src.db.exec("COMMIT");
  if (!err)
    err = take_file(temp_path, out);
  if (err) {
    ::unlink(temp_path.c_str());
    return err;
  }
  return out;
}

std::string backup_temp_prefix(const std::string& db_path) {
  return dir_of(db_path) + "." + base_of(db_path) + ".backup-";
}

std::string backup_temp_path(const std::string& db_path) {
  static const char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::string name = backup_temp_prefix(db_path);
  for (int i = 0; i < 16; ++i)
    name.push_back(hex[rd() & 0xf]);
  return name + ".tmp";
}

int remove_stale_backups(const std::string& db_path) {
  auto dir = dir_of(db_path);
  auto prefix = "." + base_of(db_path) + ".backup-";
  int removed = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return 0;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.rfind(prefix, 0) == 0 && ::unlink((dir + name).c_str()) == 0)
      ++removed;
  }
  ::closedir(d);
  return removed;
}

} // namespace ebuse
