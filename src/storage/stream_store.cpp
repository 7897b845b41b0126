// The writer's stream operations: statements, lookups with lazy expiry, appends and closes.
#include "storage/stream_store.hpp"

#include <sqlite3.h>

#include "core/errc.hpp"
#include "streams/append.hpp"
#include "streams/stream_config.hpp"

namespace ebuse {

namespace {

bool succeeded(streams::outcome o) {
  return o == streams::outcome::appended || o == streams::outcome::closed
         || o == streams::outcome::duplicate;
}

} // namespace

caf::expected<std::unique_ptr<stream_writer>> stream_writer::open(sql::connection& db,
                                                                  stream_limits limits) {
  std::unique_ptr<stream_writer> w{new stream_writer};
  w->db_ = &db;
  w->limits_ = limits;
  auto q = stream_query::prepare(db);
  if (!q)
    return std::move(q.error());
  w->query_ = std::make_unique<stream_query>(std::move(*q));
  auto prep = [&](sql::statement& st, const char* text) -> caf::error {
    auto res = db.prepare(text);
    if (!res)
      return std::move(res.error());
    st = std::move(*res);
    return caf::none;
  };
  caf::error err;
  err = prep(w->insert_stream_,
             "INSERT INTO ds_streams (path, content_type, created_ms, last_access_ms, "
             "ttl_seconds, expires_at_ms, closed, tail_seq, tail_bytes, fork_source, "
             "fork_source_path, fork_seq, fork_bytes, fork_offset_given, fork_sub_offset) "
             "VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  if (!err)
    err = prep(w->insert_row_, "INSERT INTO ds_data (stream_id, seq, end_bytes, messages, "
                               "data) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!err)
    err = prep(w->save_state_,
               "UPDATE ds_streams SET tail_seq = ?2, tail_bytes = ?3, "
               "last_access_ms = MAX(last_access_ms, ?4), closed = ?5, closed_by_id = ?6, "
               "closed_by_epoch = ?7, closed_by_seq = ?8, stream_seq = ?9 WHERE id = ?1");
  if (!err)
    err = prep(w->save_producer_, "INSERT OR REPLACE INTO ds_producers (stream_id, "
                                  "producer_id, epoch, last_seq, updated_ms) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!err)
    err = prep(w->touch_, "UPDATE ds_streams SET last_access_ms = MAX(last_access_ms, ?2) "
                          "WHERE id = ?1 AND soft_deleted = 0");
  if (!err)
    err = prep(w->soft_delete_, "UPDATE ds_streams SET soft_deleted = 1 WHERE id = ?1");
  if (!err)
    err = prep(w->expired_,
               "SELECT id FROM ds_streams WHERE soft_deleted = 0 AND (expires_at_ms <= ?1 "
               "OR (ttl_seconds IS NOT NULL AND last_access_ms + ttl_seconds * 1000 <= ?1))");
  for (const char* text : {"DELETE FROM ds_data WHERE stream_id = ?1",
                           "DELETE FROM ds_producers WHERE stream_id = ?1",
                           "DELETE FROM ds_streams WHERE id = ?1"}) {
    if (err)
      break;
    w->delete_.emplace_back();
    err = prep(w->delete_.back(), text);
  }
  if (!err)
    err = w->count_streams();
  if (err)
    return err;
  return w;
}

caf::error stream_writer::count_streams() {
  auto all = db_->query_int64("SELECT COUNT(*) FROM ds_streams");
  if (!all)
    return std::move(all.error());
  auto exp = db_->query_int64("SELECT COUNT(*) FROM ds_streams WHERE soft_deleted = 0 AND "
                              "(ttl_seconds IS NOT NULL OR expires_at_ms IS NOT NULL)");
  if (!exp)
    return std::move(exp.error());
  streams_ = *all;
  expiring_ = *exp;
  return caf::none;
}

caf::expected<stream_writer::lookup>
stream_writer::find_live(std::string_view path, int64_t now_ms, streams::stream_meta& out) {
  auto m = query_->by_path(path);
  if (!m)
    return std::move(m.error());
  if (!*m)
    return lookup::absent;
  out = std::move(**m);
  if (out.soft_deleted)
    return lookup::soft_deleted;
  if (!streams::is_expired(out.exp, out.last_access_ms, now_ms))
    return lookup::live;
  auto forked = query_->has_forks(out.id);
  if (!forked)
    return std::move(forked.error());
  if (auto err = drop(out))
    return err;
  return *forked ? lookup::soft_deleted : lookup::absent;
}

caf::error stream_writer::insert_stream(streams::stream_meta& s, int64_t now_ms) {
  auto& st = insert_stream_;
  st.bind_text(1, s.path);
  st.bind_text(2, s.content_type);
  st.bind_int64(3, now_ms);
  if (s.exp.ttl_seconds)
    st.bind_int64(4, *s.exp.ttl_seconds);
  if (s.exp.expires_at_ms)
    st.bind_int64(5, *s.exp.expires_at_ms);
  st.bind_int64(6, s.closed ? 1 : 0);
  st.bind_int64(7, s.tail.seq);
  st.bind_int64(8, s.tail.bytes);
  st.bind_int64(9, s.fork_source);
  st.bind_text(10, s.fork_source_path);
  st.bind_int64(11, s.fork_offset.seq);
  st.bind_int64(12, s.fork_offset.bytes);
  st.bind_int64(13, s.fork_offset_given ? 1 : 0);
  st.bind_int64(14, s.fork_sub_offset);
  if (auto err = sql::step_done(*db_, st, "create stream"))
    return err;
  s.id = sqlite3_last_insert_rowid(db_->get());
  s.last_access_ms = now_ms;
  ++streams_;
  if (streams::has_expiry(s.exp))
    ++expiring_;
  return caf::none;
}

caf::error stream_writer::insert_row(int64_t stream_id, streams::offset& tail,
                                     int64_t messages, std::string_view data) {
  tail.seq += 1;
  tail.bytes += static_cast<int64_t>(data.size());
  insert_row_.bind_int64(1, stream_id);
  insert_row_.bind_int64(2, tail.seq);
  insert_row_.bind_int64(3, tail.bytes);
  insert_row_.bind_int64(4, messages);
  insert_row_.bind_blob(5, data);
  return sql::step_done(*db_, insert_row_, "append to stream");
}

caf::error stream_writer::save_state(const streams::stream_meta& s, int64_t now_ms) {
  auto& st = save_state_;
  st.bind_int64(1, s.id);
  st.bind_int64(2, s.tail.seq);
  st.bind_int64(3, s.tail.bytes);
  st.bind_int64(4, now_ms);
  st.bind_int64(5, s.closed ? 1 : 0);
  if (s.closed_by) {
    st.bind_text(6, s.closed_by->id);
    st.bind_int64(7, s.closed_by->epoch);
    st.bind_int64(8, s.closed_by->seq);
  }
  if (s.stream_seq)
    st.bind_blob(9, *s.stream_seq);
  return sql::step_done(*db_, st, "update stream");
}

caf::error stream_writer::save_producer(int64_t stream_id, const std::string& id,
                                        const streams::producer_state& p, int64_t now_ms) {
  save_producer_.bind_int64(1, stream_id);
  save_producer_.bind_text(2, id);
  save_producer_.bind_int64(3, p.epoch);
  save_producer_.bind_int64(4, p.last_seq);
  save_producer_.bind_int64(5, now_ms);
  return sql::step_done(*db_, save_producer_, "save producer");
}

caf::expected<streams::write_result> stream_writer::append(const streams::append_request& req,
                                                           int64_t now_ms) {
  streams::write_result r;
  streams::stream_meta s;
  auto found = find_live(req.path, now_ms, s);
  if (!found)
    return std::move(found.error());
  if (*found != lookup::live) {
    r.result = *found == lookup::absent ? streams::outcome::not_found : streams::outcome::gone;
    return r;
  }
  std::optional<streams::producer_state> stored;
  if (req.producer) {
    auto p = query_->producer(s.id, req.producer->id);
    if (!p)
      return std::move(p.error());
    stored = *p;
  }
  auto d = streams::decide_append(s, stored, req, limits_.max_stream_bytes);
  if (d.write_data) {
    if (auto err = insert_row(s.id, s.tail, req.body.messages, req.body.data))
      return err;
  }
  if (d.close) {
    s.closed = true;
    if (req.producer)
      s.closed_by = *req.producer;
  }
  if (d.store_stream_seq)
    s.stream_seq = *req.stream_seq;
  if (succeeded(d.result) || d.write_data || d.close) {
    if (auto err = save_state(s, now_ms))
      return err;
  }
  if (d.store_producer) {
    if (auto err = save_producer(s.id, req.producer->id, d.producer_next, now_ms))
      return err;
  }
  r.result = d.result;
  r.stream_id = s.id;
  r.content_type = s.content_type;
  r.tail = s.tail;
  r.closed = s.closed;
  r.exp = s.exp;
  r.has_producer = d.has_producer;
  r.producer_epoch = d.producer_epoch;
  r.producer_seq = d.producer_seq;
  r.expected_seq = d.expected_seq;
  r.received_seq = d.received_seq;
  r.changed = d.write_data || d.close;
  return r;
}

} // namespace ebuse
