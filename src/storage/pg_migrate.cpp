// SQLite → PostgreSQL copy of a tenant through binary COPY, in bounded memory.
#include "storage/pg_migrate.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include "core/errc.hpp"
#include "core/tenant_name.hpp"
#include "storage/db.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_store.hpp"

namespace ebuse {

namespace {

// A binary COPY FROM STDIN: values travel as raw bytes with a length, so no byte of the
// data needs escaping and none is altered.
class copy_in {
public:
  copy_in(pg::connection& c, std::size_t chunk_rows) : c_(c), chunk_rows_(chunk_rows) {
  }

  caf::error start(const char* sql) {
    pg::result res{PQexec(c_.get(), sql)};
    if (PQresultStatus(res.raw()) != PGRES_COPY_IN)
      return c_.error_from(res.raw(), "COPY");
    static const char header[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
    buf_.assign(header, sizeof(header) - 1);
    return caf::none;
  }
  void row(int16_t fields) {
    put_be(fields, 2);
    ++rows_;
  }
  void text(std::string_view v) {
    put_be(static_cast<int64_t>(v.size()), 4);
    buf_.append(v);
  }
  void int64(int64_t v) {
    put_be(8, 4);
    put_be(v, 8);
  }
  caf::error flush_if_full() {
    return rows_ % chunk_rows_ == 0 ? send() : caf::none;
  }
  caf::error finish() {
    put_be(-1, 2);
    if (auto err = send())
      return err;
    if (PQputCopyEnd(c_.get(), nullptr) != 1)
      return c_.error_from(nullptr, "COPY end");
    pg::result res{PQgetResult(c_.get())};
    if (PQresultStatus(res.raw()) != PGRES_COMMAND_OK)
      return c_.error_from(res.raw(), "COPY");
    drain();
    return caf::none;
  }
  // Ends the COPY with an error: the server discards it (and the transaction fails).
  void abort() {
    if (PQputCopyEnd(c_.get(), "migration aborted") == 1)
      drain();
  }
  int64_t rows() const noexcept {
    return rows_;
  }

private:
  void drain() {
    while (PGresult* res = PQgetResult(c_.get()))
      PQclear(res);
  }
  caf::error send() {
    if (!buf_.empty()
        && PQputCopyData(c_.get(), buf_.data(), static_cast<int>(buf_.size())) != 1)
      return c_.error_from(nullptr, "COPY data");
    buf_.clear();
    return caf::none;
  }
  void put_be(int64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i)
      buf_.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
  }

  pg::connection& c_;
  std::size_t chunk_rows_;
  std::string buf_;
  int64_t rows_ = 0;
};

// Streams the rows of `select` (SQLite) into a COPY of `copy_sql`, `fill` adding each
// row's fields.
template <class Fill>
caf::expected<int64_t> stream(sql::connection& src, const char* select, pg::connection& dst,
                              const char* copy_sql, std::size_t chunk_rows, Fill fill) {
  auto st = src.prepare(select);
  if (!st)
    return std::move(st.error());
  copy_in copy{dst, chunk_rows == 0 ? 1 : chunk_rows};
  if (auto err = copy.start(copy_sql))
    return err;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) {
    fill(*st, copy);
    if (auto err = copy.flush_if_full()) {
      copy.abort();
      return err;
    }
  }
  if (rc != SQLITE_DONE) {
    copy.abort();
    return src.error_from(rc, select);
  }
  if (auto err = copy.finish())
    return err;
  return copy.rows();
}

// Locks the tenant's head row (creating it) and checks that the tenant holds nothing.
caf::error claim_empty_tenant(pg::connection& c, const std::string& tenant) {
  pg::params p;
  p.text(tenant);
  if (auto res = c.query("INSERT INTO ebuse.heads (tenant, head) VALUES ($1::text, 0) "
                         "ON CONFLICT (tenant) DO NOTHING", p); !res)
    return std::move(res.error());
  auto res = c.query("SELECT (SELECT head FROM ebuse.heads WHERE tenant = $1::text FOR UPDATE) "
                     "+ (SELECT count(*) FROM (SELECT 1 FROM ebuse.events WHERE tenant = $1::text "
                     "LIMIT 1) e) + (SELECT count(*) FROM (SELECT 1 FROM ebuse.subscriptions "
                     "WHERE tenant = $1::text LIMIT 1) s)",
                     p, false);
  if (!res)
    return std::move(res.error());
  if (res->get(0, 0) != "0")
    return make_error(errc::invalid_parameter, "tenant " + tenant
                                                 + " already has events or subscriptions in "
                                                   "PostgreSQL: migrate only into an empty tenant");
  return caf::none;
}

caf::expected<migrate_report> copy_tenant(sql::connection& src, pg::connection& c,
                                          const std::string& tenant, std::size_t chunk) {
  if (auto err = claim_empty_tenant(c, tenant))
    return err;
  migrate_report report;
  auto events = stream(src, "SELECT position, type, data, timestamp FROM events ORDER BY position",
                       c, "COPY ebuse.events (tenant, position, type, data, \"timestamp\") "
                          "FROM STDIN (FORMAT binary)",
                       chunk, [&](sql::statement& st, copy_in& copy) {
                         copy.row(5);
                         copy.text(tenant);
                         report.head = st.column_int64(0);
                         copy.int64(report.head);
                         copy.text(st.column_text(1));
                         copy.text(st.column_blob(2));
                         copy.text(st.column_text(3));
                       });
  if (!events)
    return std::move(events.error());
  report.events = *events;
  auto subs = stream(src, "SELECT subscription_id, position FROM subscriptions", c,
                     "COPY ebuse.subscriptions (tenant, subscription_id, position) "
                     "FROM STDIN (FORMAT binary)",
                     chunk, [&](sql::statement& st, copy_in& copy) {
                       copy.row(3);
                       copy.text(tenant);
                       copy.text(st.column_text(0));
                       copy.int64(st.column_int64(1));
                     });
  if (!subs)
    return std::move(subs.error());
  report.subscriptions = *subs;
  pg::params p;
  p.text(tenant).int64(report.head);
  auto res = c.query("WITH u AS (UPDATE ebuse.heads SET head = $2::int8 WHERE tenant = $1::text "
                     "RETURNING tenant, head) SELECT pg_notify('ebuse_head', tenant || ' ' || head) "
                     "FROM u",
                     p);
  if (!res)
    return std::move(res.error());
  return report;
}

} // namespace

caf::expected<migrate_report> migrate_tenant(const std::string& from, const std::string& to_url,
                                             const std::string& tenant,
                                             const migrate_options& opts) {
  if (!valid_tenant_name(tenant))
    return make_error(errc::invalid_parameter, "invalid tenant name: " + tenant);
  auto src = sql::connection::open(from, true, false);
  if (!src)
    return std::move(src.error());
  auto c = pg::connection::open(to_url, opts.conn);
  if (!c)
    return std::move(c.error());
  if (auto err = pg::migrate_schema(*c))
    return err;
  // One snapshot of the file (WAL mode: its writer may go on meanwhile), one transaction
  // in PostgreSQL: a failure leaves the target as it was.
  if (auto err = src->exec("BEGIN"))
    return err;
  if (auto err = c->exec("BEGIN")) {
    src->exec("ROLLBACK");
    return err;
  }
  auto report = copy_tenant(*src, *c, tenant, opts.chunk_rows);
  src->exec("ROLLBACK");
  if (!report) {
    if (c->ok())
      c->exec("ROLLBACK");
    return report;
  }
  if (auto err = c->exec("COMMIT"))
    return err;
  return report;
}

} // namespace ebuse
