// PostgreSQL reads: event pages rendered like the SQLite reader's, heads, subscriptions.
#include "storage/pg_reader.hpp"

#include <limits>

#include "core/errc.hpp"
#include "core/event_json.hpp"
#include "core/json_text.hpp"

namespace ebuse {

namespace {

std::vector<pg::statement_def> reader_statements() {
  return {
    {"load", "SELECT position, type, data, \"timestamp\" FROM ebuse.events "
             "WHERE tenant = $1::text AND position >= $2::int8 AND position <= $3::int8 "
             "ORDER BY position LIMIT $4::int8"},
    // The type filter: exact types, and prefixes (each ending in '.') of `prefix.*`, each
    // list a text[] literal sent as text (parameters go in binary, where an array has
    // another form).
    {"load_typed", "SELECT position, type, data, \"timestamp\" FROM ebuse.events "
                   "WHERE tenant = $1::text AND position >= $2::int8 AND position <= $3::int8 "
                   "AND (type = ANY($5::text::text[]) OR EXISTS (SELECT 1 FROM "
                   "unnest($6::text::text[]) AS p(prefix) WHERE starts_with(type, p.prefix))) "
                   "ORDER BY position LIMIT $4::int8"},
    {"head", "SELECT head FROM ebuse.heads WHERE tenant = $1::text"},
    {"subs", "SELECT subscription_id, position FROM ebuse.subscriptions "
             "WHERE tenant = $1::text ORDER BY subscription_id"},
    {"subs_page", "SELECT subscription_id, position, "
                  "(extract(epoch FROM updated_at) * 1000000)::int8 FROM ebuse.subscriptions "
                  "WHERE tenant = $1::text AND subscription_id > $2::text "
                  "ORDER BY subscription_id LIMIT $3::int8"},
    {"sweep", "DELETE FROM ebuse.idempotency_keys "
              "WHERE created_at < now() - make_interval(secs => $1::int8)"},
    {"ping", "SELECT 1"},
  };
}

// A text[] literal: every element quoted, `"` and `\` escaped.
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1)
      out.push_back(',');
    out.push_back('"');
    for (char c : item) {
      if (c == '"' || c == '\\')
        out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

} // namespace

pg_reader::pg_reader(const std::string& url, const pg_options& opts)
  : session_(url, opts.conn, reader_statements()) {
}

caf::expected<pg::result> pg_reader::run(const char* name, const pg::params& p) {
  auto conn = session_.get();
  if (!conn)
    return std::move(conn.error());
  return (*conn)->run(name, p);
}

caf::error pg_reader::load(const std::string& tenant, int64_t from, int64_t to, int64_t limit,
                           event_page& page, bool ndjson, const type_filter* types) {
  params_.clear();
  params_.text(tenant).int64(from).int64(to < 0 ? std::numeric_limits<int64_t>::max() : to).int64(
    limit);
  const bool filtered = types && !types->empty();
  if (filtered)
    params_.text(array_literal(types->exact)).text(array_literal(types->prefixes));
  auto res = run(filtered ? "load_typed" : "load", params_);
  if (!res)
    return std::move(res.error());
  for (int i = 0; i < res->rows(); ++i) {
    if (page.count > 0 && !ndjson)
      page.json.push_back(',');
    page.last_position = res->get_int64(i, 0);
    // Stored compact by this server (and copied verbatim by `ebuse migrate`, whose
    // source may hold line breaks): an NDJSON line must not be split.
    auto data = res->get(i, 2);
    std::string compacted;
    if (ndjson && data.find_first_of("\r\n") != std::string_view::npos) {
      json::append_compact(data, compacted);
      data = compacted;
    }
    append_event_json(page.json, page.last_position, res->get(i, 1), data, res->get(i, 3));
    if (ndjson)
      page.json.push_back('\n');
    ++page.count;
  }
  return caf::none;
}

caf::expected<int64_t> pg_reader::max_position(const std::string& tenant) {
  params_.clear();
  params_.text(tenant);
  auto res = run("head", params_);
  if (!res)
    return std::move(res.error());
  return res->rows() == 1 ? res->get_int64(0, 0) : 0;
}

caf::expected<std::vector<std::pair<std::string, int64_t>>>
pg_reader::subscriptions(const std::string& tenant) {
  params_.clear();
  params_.text(tenant);
  auto res = run("subs", params_);
  if (!res)
    return std::move(res.error());
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(static_cast<std::size_t>(res->rows()));
  for (int i = 0; i < res->rows(); ++i)
    out.emplace_back(std::string{res->get(i, 0)}, res->get_int64(i, 1));
  return out;
}

caf::expected<std::vector<subscription_row>>
pg_reader::subscriptions_page(const std::string& tenant, const std::string& after,
                              int64_t limit) {
  params_.clear();
  params_.text(tenant).text(after).int64(limit);
  auto res = run("subs_page", params_);
  if (!res)
    return std::move(res.error());
  std::vector<subscription_row> out;
  for (int i = 0; i < res->rows(); ++i)
    out.push_back({std::string{res->get(i, 0)}, res->get_int64(i, 1), res->get_int64(i, 2)});
  return out;
}

caf::expected<int64_t> pg_reader::sweep_idempotency_keys(std::chrono::seconds ttl) {
  params_.clear();
  params_.int64(ttl.count());
  auto res = run("sweep", params_);
  if (!res)
    return std::move(res.error());
  return res->affected();
}

caf::error pg_reader::ping() {
  params_.clear();
  auto res = run("ping", params_);
  return res ? caf::error{} : std::move(res.error());
}

// -- pg_reader_pool -----------------------------------------------------------

pg_reader_pool::pg_reader_pool(const std::string& url, const pg_options& opts)
  : size_(opts.readers == 0 ? 1 : opts.readers) {
  for (std::size_t i = 0; i < size_; ++i)
    idle_.push_back(std::make_unique<pg_reader>(url, opts));
}

pg_reader_pool::lease::~lease() {
  if (reader_)
    pool_->give_back(std::move(reader_));
}

caf::expected<pg_reader_pool::lease> pg_reader_pool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> guard{mtx_};
  if (!cv_.wait_for(guard, wait, [&] { return !idle_.empty(); }))
    return make_error(errc::storage_busy, "no PostgreSQL reader free");
  auto r = std::move(idle_.back());
  idle_.pop_back();
  return lease{this, std::move(r)};
}

void pg_reader_pool::give_back(std::unique_ptr<pg_reader> r) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    idle_.push_back(std::move(r));
  }
  cv_.notify_one();
}

} // namespace ebuse
