// libpq pipeline mode: a group's statements sent together, answered in one round trip.
#include <libpq-fe.h>

#include "storage/pg_conn.hpp"

namespace ebuse::pg {

namespace {

bool succeeded(const PGresult* res) {
  auto st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

} // namespace

params& pipeline::add(const char* name) {
  if (size_ == entries_.size())
    entries_.emplace_back();
  auto& e = entries_[size_++];
  e.name = name;
  e.sql = nullptr;
  e.p.clear();
  return e.p;
}

void pipeline::add_sql(const char* sql) {
  add(nullptr);
  entries_[size_ - 1].sql = sql;
}

caf::error pipeline::run(connection& c, std::vector<result>* results) {
  std::size_t n = std::exchange(size_, 0);
  if (results)
    results->clear();
  PGconn* conn = c.get();
  auto lost = [&](const char* what) {
    // Whatever state the protocol is in, the connection is no use any more.
    auto err = c.error_from(nullptr, what);
    c.close();
    return err;
  };
  if (!c.ok() || PQenterPipelineMode(conn) != 1)
    return lost("pipeline");
  for (std::size_t i = 0; i < n; ++i) {
    auto& e = entries_[i];
    int sent;
    if (e.name) {
      e.p.fill(view_);
      sent = PQsendQueryPrepared(conn, e.name, e.p.size(), view_.values.data(),
                                 view_.lengths.data(), view_.formats.data(), 1);
    } else {
      sent = PQsendQueryParams(conn, e.sql, 0, nullptr, nullptr, nullptr, nullptr, 1);
    }
    if (sent != 1)
      return lost("send");
  }
  // Sends the sync and flushes. The results of our statements are small (counts, a
  // head, idempotency records), so the server never blocks writing them while we send.
  if (PQpipelineSync(conn) != 1)
    return lost("sync");
  caf::error first;
  for (std::size_t i = 0; i < n; ++i) {
    result res{PQgetResult(conn)};
    if (!res.raw() || !c.ok())
      return lost("pipeline result");
    if (!first && PQresultStatus(res.raw()) != PGRES_PIPELINE_ABORTED && !succeeded(res.raw()))
      first = c.error_from(res.raw(), entries_[i].name ? entries_[i].name : entries_[i].sql);
    if (results)
      results->push_back(std::move(res));
    // Each statement's results end with a null.
    if (result end{PQgetResult(conn)}; end.raw())
      return lost("pipeline protocol");
  }
  result sync{PQgetResult(conn)};
  if (!sync.raw() || PQresultStatus(sync.raw()) != PGRES_PIPELINE_SYNC
      || PQexitPipelineMode(conn) != 1)
    return lost("pipeline sync");
  return first;
}

} // namespace ebuse::pg
