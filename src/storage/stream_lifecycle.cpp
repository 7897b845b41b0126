// Deleting streams: soft deletes while forks read them, cascades up fork chains, expiry.
#include "storage/stream_store.hpp"

#include <sqlite3.h>

#include "core/errc.hpp"
#include "streams/stream_config.hpp"

namespace ebuse {

caf::error stream_writer::drop(const streams::stream_meta& s) {
  if (streams::has_expiry(s.exp) && expiring_ > 0)
    --expiring_;
  auto forked = query_->has_forks(s.id);
  if (!forked)
    return std::move(forked.error());
  if (*forked) {
    soft_delete_.bind_int64(1, s.id);
    return sql::step_done(*db_, soft_delete_, "soft-delete stream");
  }
  return hard_delete(s.id);
}

caf::error stream_writer::hard_delete(int64_t id) {
  // Deleting a fork may leave its source soft-deleted with no fork left: then the
  // source goes too, and so on up the chain.
  while (id != 0) {
    auto m = query_->by_id(id);
    if (!m)
      return std::move(m.error());
    if (!*m)
      return caf::none;
    for (auto& st : delete_) {
      st.bind_int64(1, id);
      if (auto err = sql::step_done(*db_, st, "delete stream"))
        return err;
    }
    --streams_;
    int64_t source = (*m)->fork_source;
    id = 0;
    if (source == 0)
      break;
    auto parent = query_->by_id(source);
    if (!parent)
      return std::move(parent.error());
    if (!*parent || !(*parent)->soft_deleted)
      break;
    auto forked = query_->has_forks(source);
    if (!forked)
      return std::move(forked.error());
    if (!*forked)
      id = source;
  }
  return caf::none;
}

caf::expected<streams::write_result> stream_writer::remove(std::string_view path,
                                                           int64_t now_ms) {
  streams::write_result r;
  streams::stream_meta s;
  auto found = find_live(path, now_ms, s);
  if (!found)
    return std::move(found.error());
  if (*found != lookup::live) {
    r.result = *found == lookup::absent ? streams::outcome::not_found : streams::outcome::gone;
    return r;
  }
  if (auto err = drop(s))
    return err;
  r.result = streams::outcome::deleted;
  r.stream_id = s.id;
  r.changed = true;
  return r;
}

caf::error stream_writer::touch(int64_t id, int64_t at_ms) {
  touch_.bind_int64(1, id);
  touch_.bind_int64(2, at_ms);
  return sql::step_done(*db_, touch_, "touch stream");
}

caf::expected<std::vector<int64_t>> stream_writer::expire(int64_t now_ms) {
  std::vector<int64_t> ids;
  expired_.bind_int64(1, now_ms);
  int rc;
  while ((rc = expired_.step()) == SQLITE_ROW)
    ids.push_back(expired_.column_int64(0));
  expired_.reset();
  if (rc != SQLITE_DONE)
    return db_->error_from(rc, "find expired streams");
  for (auto id : ids) {
    auto m = query_->by_id(id);
    if (!m)
      return std::move(m.error());
    if (*m && !(*m)->soft_deleted) {
      if (auto err = drop(**m))
        return err;
    }
  }
  if (auto err = count_streams())
    return err;
  return ids;
}

} // namespace ebuse
