// libpq wrappers: connect, prepared statements, binary parameters, pipelines, SQLSTATEs.
#include "storage/pg_conn.hpp"

#include <cstring>

#include <libpq-fe.h>

#include "core/errc.hpp"
#include "storage/pg_url.hpp"

namespace ebuse::pg {

namespace {

std::string one_line(const char* msg) {
  std::string s = msg ? msg : "";
  for (auto& c : s)
    if (c == '\n' || c == '\t')
      c = ' ';
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

bool succeeded(const PGresult* res) {
  auto st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

} // namespace

// -- result -------------------------------------------------------------------

result& result::operator=(result&& other) noexcept {
  if (this != &other) {
    PQclear(res_);
    res_ = std::exchange(other.res_, nullptr);
  }
  return *this;
}

result::~result() {
  PQclear(res_);
}

int result::rows() const noexcept {
  return res_ ? PQntuples(res_) : 0;
}

std::string_view result::get(int row, int col) const noexcept {
  return {PQgetvalue(res_, row, col), static_cast<std::size_t>(PQgetlength(res_, row, col))};
}

bool result::is_null(int row, int col) const noexcept {
  return PQgetisnull(res_, row, col) != 0;
}

int64_t result::get_int64(int row, int col) const noexcept {
  auto v = get(row, col);
  if (v.empty() || v.size() > 8)
    return 0;
  // Sign-extend from the first byte, then shift in the rest.
  uint64_t x = static_cast<signed char>(v[0]) < 0 ? ~uint64_t{0} : 0;
  for (unsigned char c : v)
    x = (x << 8) | c;
  return static_cast<int64_t>(x);
}

int64_t result::affected() const noexcept {
  const char* n = res_ ? PQcmdTuples(res_) : "";
  int64_t v = 0;
  for (; *n >= '0' && *n <= '9'; ++n)
    v = v * 10 + (*n - '0');
  return v;
}

bool result::get_bool(int row, int col) const noexcept {
  auto v = get(row, col);
  return v.size() == 1 && v[0] != 0;
}

// -- params -------------------------------------------------------------------

params& params::text(std::string_view value) {
  offsets_.emplace_back(buf_.size(), value.size());
  buf_.append(value);
  return *this;
}

params& params::big_endian(uint64_t value, int bytes) {
  char b[8];
  for (int i = bytes - 1; i >= 0; --i, value >>= 8)
    b[i] = static_cast<char>(value & 0xff);
  return text({b, static_cast<std::size_t>(bytes)});
}

params& params::int64(int64_t value) {
  return big_endian(static_cast<uint64_t>(value), 8);
}

params& params::int32(int32_t value) {
  return big_endian(static_cast<uint32_t>(value), 4);
}

void params::clear() noexcept {
  buf_.clear();
  offsets_.clear();
}

void params::fill(view& v) const {
  v.values.clear();
  v.lengths.clear();
  v.formats.assign(offsets_.size(), 1);
  for (auto [off, len] : offsets_) {
    v.values.push_back(buf_.data() + off);
    v.lengths.push_back(static_cast<int>(len));
  }
}

// -- connection ---------------------------------------------------------------

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}

connection::~connection() {
  close();
}

void connection::close() noexcept {
  if (conn_)
    PQfinish(conn_);
  conn_ = nullptr;
}

bool connection::ok() const noexcept {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

caf::expected<connection> connection::open(const std::string& url, const conn_options& opts) {
  // Defaults first: the URL's own parameters override them; the encoding comes last
  // because every text we send and read is UTF-8 byte for byte.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                        nullptr};
  const char* values[] = {"5", "ebuse", url.c_str(), "UTF8", nullptr};
  connection c;
  c.conn_ = PQconnectdbParams(keys, values, 1);
  if (!c.conn_)
    return make_error(errc::storage_unavailable, "PostgreSQL: out of memory");
  if (PQstatus(c.conn_) != CONNECTION_OK)
    return make_error(errc::storage_unavailable, "cannot connect to PostgreSQL at "
                                                   + redact_url(url) + ": "
                                                   + one_line(PQerrorMessage(c.conn_)));
  // Notices (such as "already exists, skipping") are not errors; libpq would print
  // them on stderr.
  PQsetNoticeProcessor(c.conn_, [](void*, const char*) {}, nullptr);
  const char* enc = PQparameterStatus(c.conn_, "server_encoding");
  if (!enc || std::strcmp(enc, "UTF8") != 0)
    return make_error(errc::storage_unavailable,
                      "PostgreSQL database at " + redact_url(url) + " has encoding "
                        + (enc ? enc : "?") + ": ebuse needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')");
  std::string set = "SET lock_timeout = " + std::to_string(opts.lock_timeout.count());
  if (auto err = c.exec(set.c_str()))
    return err;
  return c;
}

caf::error connection::error_from(const PGresult* res, const char* what) const {
  std::string msg = std::string{what} + ": ";
  if (!ok() || !res)
    return make_error(errc::storage_unavailable,
                      msg + "PostgreSQL connection lost: " + one_line(conn_ ? PQerrorMessage(conn_) : ""));
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  return error_from_sqlstate(state ? state : "", msg + one_line(PQresultErrorMessage(res)));
}

caf::error connection::prepare(const char* name, const std::string& sql) {
  result res{PQprepare(conn_, name, sql.c_str(), 0, nullptr)};
  if (!succeeded(res.raw()))
    return error_from(res.raw(), name);
  return caf::none;
}

caf::error connection::exec(const char* sql) {
  result res{PQexec(conn_, sql)};
  if (!succeeded(res.raw()))
    return error_from(res.raw(), sql);
  return caf::none;
}

caf::expected<result> connection::query(const char* sql, const params& p, bool binary) {
  params::view v;
  p.fill(v);
  result res{PQexecParams(conn_, sql, p.size(), nullptr, v.values.data(), v.lengths.data(),
                          v.formats.data(), binary ? 1 : 0)};
  if (!succeeded(res.raw()))
    return error_from(res.raw(), sql);
  return res;
}

caf::expected<result> connection::run(const char* name, const params& p) {
  params::view v;
  p.fill(v);
  result res{PQexecPrepared(conn_, name, p.size(), v.values.data(), v.lengths.data(),
                            v.formats.data(), 1)};
  if (!succeeded(res.raw()))
    return error_from(res.raw(), name);
  return res;
}

caf::error error_from_sqlstate(std::string_view state, std::string message) {
  auto cls = state.substr(0, 2);
  errc code = errc::internal;
  if (state.empty() || cls == "08" || state == "57P01" || state == "57P02" || state == "57P03"
      || state == "53300")
    code = errc::storage_unavailable; // connection, shutdown, too many connections
  else if (state == "53100")
    code = errc::storage_full;
  else if (cls == "40" || state == "55P03" || state == "57014")
    code = errc::storage_busy; // serialization, deadlock, lock timeout, cancel
  else if (cls == "22")
    code = errc::invalid_event; // text PostgreSQL cannot store (NUL, bad UTF-8)
  return make_error(code, std::move(message));
}

} // namespace ebuse::pg
