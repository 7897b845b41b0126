// Reads of a stream from one snapshot: metadata, expiry, offset checks and the data.
#include "storage/stream_store.hpp"

#include <sqlite3.h>

#include "streams/content_type.hpp"
#include "streams/stream_config.hpp"

namespace ebuse {

namespace {

using streams::outcome;

// Ends the read transaction however the read ends, so that a reader never holds back
// WAL checkpoints.
class read_txn {
public:
  read_txn(sql::statement& begin, sql::statement& end) : end_(end) {
    rc_ = begin.step();
    begin.reset();
  }
  ~read_txn() {
    if (rc_ == SQLITE_DONE) {
      end_.step();
      end_.reset();
    }
  }
  int rc() const noexcept {
    return rc_;
  }

private:
  sql::statement& end_;
  int rc_;
};

} // namespace

caf::expected<std::unique_ptr<stream_reader>> stream_reader::open(sql::connection& db) {
  std::unique_ptr<stream_reader> r{new stream_reader};
  r->db_ = &db;
  auto q = stream_query::prepare(db);
  if (!q)
    return std::move(q.error());
  r->query_ = std::make_unique<stream_query>(std::move(*q));
  auto begin = db.prepare("BEGIN");
  if (!begin)
    return std::move(begin.error());
  r->begin_ = std::move(*begin);
  auto end = db.prepare("COMMIT");
  if (!end)
    return std::move(end.error());
  r->end_ = std::move(*end);
  return r;
}

caf::expected<streams::read_result> stream_reader::read(const streams::read_request& req,
                                                        int64_t now_ms) {
  streams::read_result out;
  read_txn txn{begin_, end_};
  if (txn.rc() != SQLITE_DONE)
    return db_->error_from(txn.rc(), "begin read");
  auto m = query_->by_path(req.path);
  if (!m)
    return std::move(m.error());
  if (!*m) {
    out.result = outcome::not_found;
    return out;
  }
  out.meta = std::move(**m);
  if (out.meta.soft_deleted) {
    out.result = outcome::gone;
    return out;
  }
  if (streams::is_expired(out.meta.exp, out.meta.last_access_ms, now_ms)) {
    // Expired but not yet swept: absent, or gone while forks still read it.
    auto forked = query_->has_forks(out.meta.id);
    if (!forked)
      return std::move(forked.error());
    out.result = *forked ? outcome::gone : outcome::not_found;
    return out;
  }
  out.result = outcome::ok;
  const auto tail = out.meta.tail;
  streams::offset from;
  if (req.from.kind == streams::offset_kind::now || req.meta_only)
    from = tail;
  else if (req.from.kind == streams::offset_kind::at)
    from = req.from.at;
  if (tail < from) {
    out.result = outcome::bad_offset;
    return out;
  }
  if (auto err = read_rows(req, from, out))
    return err;
  return out;
}

caf::error stream_reader::read_rows(const streams::read_request& req, streams::offset from,
                                    streams::read_result& out) {
  const auto tail = out.meta.tail;
  bool json = streams::is_json(out.meta.content_type);
  out.next = from;
  if (from == tail) {
    out.up_to_date = true;
    if (json)
      out.payload = "[]";
    return caf::none;
  }
  auto view = query_->view(out.meta);
  if (!view)
    return std::move(view.error());
  auto valid = query_->is_position(*view, from, tail);
  if (!valid)
    return std::move(valid.error());
  if (!*valid) {
    out.result = outcome::bad_offset;
    return caf::none;
  }
  if (json)
    out.payload.push_back('[');
  auto err = query_->read(*view, from.seq, req.max_rows, req.max_bytes,
                          [&](const stream_row& row) {
                            if (json && out.appends > 0)
                              out.payload.push_back(',');
                            out.payload.append(row.data);
                            out.next = {row.seq, row.end_bytes};
                            ++out.appends;
                          });
  if (err)
    return err;
  if (json)
    out.payload.push_back(']');
  out.up_to_date = out.next == tail;
  return caf::none;
}

} // namespace ebuse
