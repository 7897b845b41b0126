// Stream rows and fork views: the reads shared by the tenant readers and the writer.
#include "storage/stream_query.hpp"

#include <algorithm>
#include <limits>

#include <sqlite3.h>

#include "core/errc.hpp"

namespace ebuse {

namespace {

constexpr const char* meta_columns =
  "SELECT id, path, content_type, ttl_seconds, expires_at_ms, last_access_ms, closed, "
  "soft_deleted, tail_seq, tail_bytes, stream_seq, closed_by_id, closed_by_epoch, "
  "closed_by_seq, fork_source, fork_source_path, fork_seq, fork_bytes, fork_offset_given, "
  "fork_sub_offset FROM ds_streams ";

streams::stream_meta meta_from(const sql::statement& st) {
  streams::stream_meta m;
  m.id = st.column_int64(0);
  m.path = std::string{st.column_text(1)};
  m.content_type = std::string{st.column_text(2)};
  if (!st.column_is_null(3))
    m.exp.ttl_seconds = st.column_int64(3);
  if (!st.column_is_null(4))
    m.exp.expires_at_ms = st.column_int64(4);
  m.last_access_ms = st.column_int64(5);
  m.closed = st.column_int64(6) != 0;
  m.soft_deleted = st.column_int64(7) != 0;
  m.tail = {st.column_int64(8), st.column_int64(9)};
  if (!st.column_is_null(10))
    m.stream_seq = std::string{st.column_blob(10)};
  if (!st.column_is_null(11))
    m.closed_by = streams::producer_request{std::string{st.column_text(11)},
                                            st.column_int64(12), st.column_int64(13)};
  m.fork_source = st.column_int64(14);
  m.fork_source_path = std::string{st.column_text(15)};
  m.fork_offset = {st.column_int64(16), st.column_int64(17)};
  m.fork_offset_given = st.column_int64(18) != 0;
  m.fork_sub_offset = st.column_int64(19);
  return m;
}

} // namespace

caf::expected<stream_query> stream_query::prepare(sql::connection& db) {
  stream_query q;
  q.db_ = &db;
  struct item {
    sql::statement* st;
    std::string text;
  };
  std::string cols = meta_columns;
  for (auto& [st, text] : std::initializer_list<item>{
         {&q.by_path_, cols + "WHERE path = ?1"},
         {&q.by_id_, cols + "WHERE id = ?1"},
         {&q.has_forks_, "SELECT 1 FROM ds_streams WHERE fork_source = ?1 LIMIT 1"},
         {&q.rows_, "SELECT seq, end_bytes, messages, data FROM ds_data "
                    "WHERE stream_id = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4"},
         {&q.row_end_, "SELECT end_bytes FROM ds_data WHERE stream_id = ?1 AND seq = ?2"},
         {&q.producer_, "SELECT epoch, last_seq FROM ds_producers "
                        "WHERE stream_id = ?1 AND producer_id = ?2"}}) {
    auto res = db.prepare(text);
    if (!res)
      return std::move(res.error());
    *st = std::move(*res);
  }
  return q;
}

caf::expected<std::optional<streams::stream_meta>> stream_query::one(sql::statement& st) {
  int rc = st.step();
  std::optional<streams::stream_meta> result;
  if (rc == SQLITE_ROW)
    result = meta_from(st);
  st.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_->error_from(rc, "load stream");
  return result;
}

caf::expected<std::optional<streams::stream_meta>> stream_query::by_path(std::string_view path) {
  by_path_.bind_text(1, path);
  return one(by_path_);
}

caf::expected<std::optional<streams::stream_meta>> stream_query::by_id(int64_t id) {
  by_id_.bind_int64(1, id);
  return one(by_id_);
}

caf::expected<bool> stream_query::has_forks(int64_t id) {
  has_forks_.bind_int64(1, id);
  int rc = has_forks_.step();
  has_forks_.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_->error_from(rc, "find forks");
  return rc == SQLITE_ROW;
}

caf::expected<std::vector<stream_segment>> stream_query::view(const streams::stream_meta& s,
                                                              std::size_t max_levels) {
  std::vector<stream_segment> segs;
  int64_t upto = std::numeric_limits<int64_t>::max();
  int64_t after = s.fork_source != 0 ? s.fork_offset.seq : 0;
  segs.push_back({s.id, after, upto});
  int64_t source = s.fork_source;
  upto = after;
  std::size_t levels = 1;
  while (source != 0) {
    if (++levels > max_levels)
      return make_error(errc::invalid_parameter, "fork chain too deep");
    auto m = by_id(source);
    if (!m)
      return std::move(m.error());
    if (!*m)
      return make_error(errc::internal, "fork source missing: " + std::to_string(source));
    after = (*m)->fork_source != 0 ? (*m)->fork_offset.seq : 0;
    if (after < upto)
      segs.push_back({(*m)->id, after, upto});
    upto = std::min(upto, after);
    source = (*m)->fork_source;
  }
  std::reverse(segs.begin(), segs.end());
  return segs;
}

caf::expected<bool> stream_query::is_position(const std::vector<stream_segment>& view,
                                              streams::offset at, streams::offset tail) {
  if (at == tail || at == streams::offset{})
    return true;
  if (at.seq <= 0 || at.seq >= tail.seq)
    return false;
  for (const auto& seg : view) {
    if (at.seq <= seg.after || at.seq > seg.upto)
      continue;
    row_end_.bind_int64(1, seg.stream_id);
    row_end_.bind_int64(2, at.seq);
    int rc = row_end_.step();
    bool match = rc == SQLITE_ROW && row_end_.column_int64(0) == at.bytes;
    row_end_.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return db_->error_from(rc, "check offset");
    return match;
  }
  return false;
}

caf::error stream_query::read(const std::vector<stream_segment>& view, int64_t after,
                              int64_t max_rows, int64_t max_bytes,
                              const std::function<void(const stream_row&)>& sink) {
  int64_t rows = 0;
  int64_t bytes = 0;
  for (const auto& seg : view) {
    if (seg.upto <= after)
      continue;
    rows_.bind_int64(1, seg.stream_id);
    rows_.bind_int64(2, std::max(after, seg.after));
    rows_.bind_int64(3, seg.upto);
    rows_.bind_int64(4, max_rows - rows);
    int rc;
    while ((rc = rows_.step()) == SQLITE_ROW) {
      stream_row row{rows_.column_int64(0), rows_.column_int64(1), rows_.column_int64(2),
                     rows_.column_blob(3)};
      sink(row);
      after = row.seq;
      ++rows;
      bytes += static_cast<int64_t>(row.data.size());
      if (bytes >= max_bytes)
        break;
    }
    rows_.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return db_->error_from(rc, "read stream");
    if (rows >= max_rows || bytes >= max_bytes)
      break;
  }
  return caf::none;
}

caf::expected<std::optional<streams::producer_state>>
stream_query::producer(int64_t stream_id, std::string_view producer_id) {
  producer_.bind_int64(1, stream_id);
  producer_.bind_text(2, producer_id);
  int rc = producer_.step();
  std::optional<streams::producer_state> result;
  if (rc == SQLITE_ROW)
    result = streams::producer_state{producer_.column_int64(0), producer_.column_int64(1)};
  producer_.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_->error_from(rc, "load producer");
  return result;
}

} // namespace ebuse
