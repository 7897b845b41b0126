// SQLite event store: group-commit friendly appends, paged reads (the schema and its
// migrations are in event_schema.cpp).
#include "storage/event_store.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/errc.hpp"
#include "core/event_json.hpp"
#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "storage/event_schema.hpp"

namespace ebuse {

namespace {

caf::error apply_pragmas(sql::connection& db, const store_options& opts,
                         bool writer) {
  // No memory mapping: it made reads no faster (docs/PERFORMANCE.md), and without it
  // the process holds only its bounded caches; a mapping makes every page a stream
  // touches count as the server's memory and turns an I/O error on the file into SIGBUS.
  std::string sql = "PRAGMA busy_timeout=" + std::to_string(opts.busy_timeout_ms)
                    + ";PRAGMA temp_store=MEMORY;"
                    "PRAGMA mmap_size=0;"
                    "PRAGMA cache_size="
                    + std::to_string(writer ? opts.cache_size : opts.reader_cache_size) + ";";
  if (writer) {
    // WAL lets readers run beside the writer; NORMAL syncs the WAL at checkpoints,
    // which survives a process kill at any moment (only power loss can lose the tail).
    sql += "PRAGMA journal_mode=WAL;"
           "PRAGMA synchronous=NORMAL;";
    if (opts.max_page_count > 0)
      sql += "PRAGMA max_page_count=" + std::to_string(opts.max_page_count) + ";";
  }
  return db.exec(sql.c_str());
}

// INSERT of `rows` events: (type, data, timestamp) per row.
std::string insert_sql(int rows) {
  std::string sql = "INSERT INTO events (type, data, timestamp) VALUES ";
  for (int i = 0; i < rows; ++i)
    sql += i == 0 ? "(?,?,?)" : ",(?,?,?)";
  return sql;
}

} // namespace

// -- store_writer -------------------------------------------------------------

caf::expected<std::unique_ptr<store_writer>>
store_writer::open(const std::string& path, const store_options& opts) {
  auto conn = sql::connection::open(path, false);
  if (!conn)
    return std::move(conn.error());
  std::unique_ptr<store_writer> self{new store_writer};
  self->db_ = std::move(*conn);
  if (auto err = apply_pragmas(self->db_, opts, true))
    return err;
  if (auto err = migrate_event_store(self->db_))
    return err;
  // Replaces SQLite's automatic checkpoint (itself a WAL hook) with a note of the size.
  self->wal_threshold_ = opts.wal_autocheckpoint;
  self->key_ttl_ms_ = opts.idempotency_ttl_ms;
  sqlite3_wal_hook(
    self->db_.get(),
    [](void* arg, sqlite3*, const char*, int frames) {
      static_cast<store_writer*>(arg)->wal_frames_ = frames;
      return SQLITE_OK;
    },
    self.get());
  auto prep = [&](sql::statement& st, const char* text) -> caf::error {
    auto res = self->db_.prepare(text);
    if (!res)
      return std::move(res.error());
    st = std::move(*res);
    return caf::none;
  };
  if (auto err = prep(self->begin_, "BEGIN IMMEDIATE"))
    return err;
  if (auto err = prep(self->commit_, "COMMIT"))
    return err;
  if (auto err = prep(self->rollback_, "ROLLBACK"))
    return err;
  if (auto err = prep(self->insert_, insert_sql(1).c_str()))
    return err;
  if (auto err = prep(self->insert8_, insert_sql(8).c_str()))
    return err;
  if (auto err = prep(self->insert64_, insert_sql(64).c_str()))
    return err;
  if (auto err = prep(self->sweep_keys_,
                     "DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM "
                     "idempotency_keys WHERE created_ms < ?1 ORDER BY created_ms LIMIT ?2)"))
    return err;
  if (auto err = prep(self->save_sub_, "INSERT OR REPLACE INTO subscriptions "
                                       "(subscription_id, position, updated_at) "
                                       "VALUES (?1, ?2, ?3)"))
    return err;
  auto head = self->db_.query_int64("SELECT COALESCE(MAX(position), 0) FROM events");
  if (!head)
    return std::move(head.error());
  self->head_ = *head;
  return self;
}

caf::error store_writer::begin() {
  int rc = begin_.step();
  begin_.reset();
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "begin");
  return caf::none;
}

caf::error store_writer::commit() {
  int rc = commit_.step();
  commit_.reset();
  if (rc != SQLITE_DONE) {
    auto err = db_.error_from(rc, "commit");
    rollback();
    return err;
  }
  return caf::none;
}

void store_writer::rollback() noexcept {
  // After some errors SQLite has already rolled back; ROLLBACK then fails harmlessly.
  if (!sqlite3_get_autocommit(db_.get())) {
    rollback_.step();
    rollback_.reset();
  }
}

caf::expected<append_result> store_writer::insert_rows(const std::vector<const new_event*>& rows) {
  append_result res;
  std::size_t done = 0;
  while (done < rows.size()) {
    std::size_t left = rows.size() - done;
    auto& st = left >= 64 ? insert64_ : left >= 8 ? insert8_ : insert_;
    std::size_t n = left >= 64 ? 64 : left >= 8 ? 8 : 1;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& ev = *rows[done + i];
      int col = static_cast<int>(3 * i);
      st.bind_text(col + 1, ev.type);
      st.bind_blob(col + 2, ev.data);
      st.bind_text(col + 3, ev.timestamp);
    }
    int rc = st.step();
    st.reset();
    if (rc != SQLITE_DONE)
      return db_.error_from(rc, "insert events");
    auto last = sqlite3_last_insert_rowid(db_.get());
    if (res.first == 0)
      res.first = last - static_cast<int64_t>(n) + 1;
    res.last = last;
    done += n;
  }
  return res;
}

caf::error store_writer::save_subscription(std::string_view id, int64_t position) {
  save_sub_.bind_text(1, id);
  save_sub_.bind_int64(2, position);
  save_sub_.bind_int64(3, ts::unix_now_ms());
  int rc = save_sub_.step();
  save_sub_.reset();
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "save subscription");
  return caf::none;
}

caf::expected<int64_t> store_writer::sweep_idempotency_keys(int64_t before_ms,
                                                            int64_t max_rows) {
  sweep_keys_.bind_int64(1, before_ms);
  sweep_keys_.bind_int64(2, max_rows);
  int rc = sweep_keys_.step();
  sweep_keys_.reset();
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "sweep idempotency keys");
  return static_cast<int64_t>(sqlite3_changes(db_.get()));
}

caf::error store_writer::checkpoint() {
  int log_frames = 0;
  int done_frames = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_TRUNCATE,
                                     &log_frames, &done_frames);
  if (rc == SQLITE_OK)
    return caf::none;
  if (rc == SQLITE_BUSY)
    return make_error(errc::storage_busy,
                      "checkpoint (" + db_.path() + "): another connection used the WAL "
                        "past the busy timeout; " + std::to_string(std::max(done_frames, 0))
                        + " of " + std::to_string(std::max(log_frames, 0))
                        + " frames copied, the rest stays in the WAL");
  return db_.error_from(rc, "checkpoint");
}

caf::error store_writer::checkpoint_passive() {
  auto res = sql::checkpoint_passive(db_);
  return res ? caf::error{} : std::move(res.error());
}

// -- store_reader -------------------------------------------------------------

caf::expected<std::unique_ptr<store_reader>>
store_reader::open(const std::string& path, const store_options& opts) {
  auto conn = sql::connection::open(path, true);
  if (!conn)
    return std::move(conn.error());
  std::unique_ptr<store_reader> self{new store_reader};
  self->db_ = std::move(*conn);
  if (auto err = apply_pragmas(self->db_, opts, false))
    return err;
  auto load = self->db_.prepare("SELECT position, type, data, timestamp FROM events "
                                "WHERE position >= ?1 AND position <= ?2 "
                                "ORDER BY position LIMIT ?3");
  if (!load)
    return std::move(load.error());
  self->load_bounded_ = std::move(*load);
  auto max_pos = self->db_.prepare("SELECT COALESCE(MAX(position), 0) FROM events");
  if (!max_pos)
    return std::move(max_pos.error());
  self->max_pos_ = std::move(*max_pos);
  return self;
}

// Exact types as one IN list, prefixes as ranges [prefix, prefix with its last byte
// raised): both are ranges of a (type, position) index when the file has one (the
// original's files do), and plain comparisons over the position range when it has not.
caf::expected<sql::statement*> store_reader::filtered_statement(std::size_t exact,
                                                                std::size_t prefixes) {
  auto key = std::make_pair(exact, prefixes);
  auto found = filtered_.find(key);
  if (found != filtered_.end())
    return &found->second;
  std::string where;
  int param = 4;
  if (exact > 0) {
    where += "type IN (";
    for (std::size_t i = 0; i < exact; ++i)
      where += (i ? ",?" : "?") + std::to_string(param++);
    where += ")";
  }
  for (std::size_t i = 0; i < prefixes; ++i, param += 2) {
    if (!where.empty())
      where += " OR ";
    where += "(type >= ?" + std::to_string(param) + " AND type < ?"
             + std::to_string(param + 1) + ")";
  }
  auto st = db_.prepare("SELECT position, type, data, timestamp FROM events "
                        "WHERE position >= ?1 AND position <= ?2 AND (" + where
                        + ") ORDER BY position LIMIT ?3");
  if (!st)
    return std::move(st.error());
  return &filtered_.emplace(key, std::move(*st)).first->second;
}

caf::error store_reader::load(int64_t from, int64_t to, int64_t limit,
                              event_page& page, bool ndjson, const type_filter* types) {
  sql::statement* chosen = &load_bounded_;
  std::vector<std::string> uppers; // bound without copying: lives through the steps
  if (types && !types->empty()) {
    auto f = filtered_statement(types->exact.size(), types->prefixes.size());
    if (!f)
      return std::move(f.error());
    chosen = *f;
    int param = 4;
    for (const auto& e : types->exact)
      chosen->bind_text(param++, e);
    uppers.reserve(types->prefixes.size());
    for (const auto& p : types->prefixes) {
      // Every prefix ends in '.': the first string past all that start with it ends in '/'.
      uppers.push_back(p);
      uppers.back().back() = '/';
      chosen->bind_text(param++, p);
      chosen->bind_text(param++, uppers.back());
    }
  }
  auto& st = *chosen;
  st.bind_int64(1, from);
  st.bind_int64(2, to < 0 ? std::numeric_limits<int64_t>::max() : to);
  st.bind_int64(3, limit);
  int rc;
  std::string compacted;
  while ((rc = st.step()) == SQLITE_ROW) {
    if (page.count > 0 && !ndjson)
      page.json.push_back(',');
    page.last_position = st.column_int64(0);
    auto data = st.column_blob(2);
    // Ours is stored compact; a file of the original may hold data with line breaks
    // between its tokens, which would split an NDJSON line.
    if (ndjson && data.find_first_of("\r\n") != std::string_view::npos) {
      compacted.clear();
      json::append_compact(data, compacted);
      data = compacted;
    }
    append_event_json(page.json, page.last_position, st.column_text(1), data,
                      st.column_text(3));
    if (ndjson)
      page.json.push_back('\n');
    ++page.count;
  }
  // Resetting ends the implicit read transaction, so WAL checkpoints are not held back.
  st.reset();
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "load events");
  return caf::none;
}

caf::expected<int64_t> store_reader::max_position() {
  int rc = max_pos_.step();
  int64_t result = rc == SQLITE_ROW ? max_pos_.column_int64(0) : 0;
  max_pos_.reset();
  if (rc != SQLITE_ROW)
    return db_.error_from(rc, "max position");
  return result;
}

caf::error store_reader::check_header() const {
  static constexpr char magic[] = "SQLite format 3"; // and its NUL: 16 bytes
  char head[sizeof(magic)] = {};
  int fd = ::open(db_.path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return {};
  auto n = ::pread(fd, head, sizeof(head), 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof(head)) || std::memcmp(head, magic, sizeof(head)) == 0)
    return {};
  return db_.error_from(SQLITE_NOTADB, "file header");
}

caf::expected<std::vector<std::pair<std::string, int64_t>>>
store_reader::subscriptions() {
  auto st = db_.prepare("SELECT subscription_id, position FROM subscriptions");
  if (!st)
    return std::move(st.error());
  std::vector<std::pair<std::string, int64_t>> result;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    result.emplace_back(std::string{st->column_text(0)}, st->column_int64(1));
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "load subscriptions");
  return result;
}

caf::expected<std::vector<subscription_entry>>
store_reader::subscription_page(std::string_view after, int64_t limit) {
  // The primary key orders ids bytewise (BINARY), which is the order of the listing.
  auto st = db_.prepare("SELECT subscription_id, position, updated_at FROM subscriptions "
                        "WHERE subscription_id > ?1 ORDER BY subscription_id LIMIT ?2");
  if (!st)
    return std::move(st.error());
  st->bind_text(1, after);
  st->bind_int64(2, limit);
  std::vector<subscription_entry> result;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW)
    result.push_back({std::string{st->column_text(0)}, st->column_int64(1),
                      st->column_int64(2)});
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "list subscriptions");
  return result;
}

} // namespace ebuse
