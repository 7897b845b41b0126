// PostgreSQL writer: group transactions under the tenant's head-row lock, in few round trips.
#include "storage/pg_store.hpp"

#include <string_view>

#include "core/errc.hpp"
#include "core/tenant_name.hpp"

namespace ebuse {

namespace {

// INSERT of `rows` events at positions head + $2, head + $2 + 1, ...: relative to the
// head row, which this transaction holds locked, so a group needs not wait for the head
// before sending its inserts.
std::string insert_sql(int rows) {
  std::string sql = "INSERT INTO ebuse.events (tenant, position, type, data, \"timestamp\") "
                    "SELECT h.tenant, h.head + v.o, v.t, v.d, v.ts FROM ebuse.heads h, (VALUES ";
  for (int i = 0; i < rows; ++i) {
    int p = 3 + 3 * i;
    sql += i == 0 ? "($2::int8, $3::text, $4::text, $5::text)"
                  : ",($2 + " + std::to_string(i) + ", $" + std::to_string(p) + ", $"
                      + std::to_string(p + 1) + ", $" + std::to_string(p + 2) + ")";
  }
  return sql + ") AS v(o, t, d, ts) WHERE h.tenant = $1::text";
}

std::vector<pg::statement_def> writer_statements(bool notify) {
  return {
    {"lock", "SELECT head FROM ebuse.heads WHERE tenant = $1::text FOR UPDATE"},
    {"create_head", "INSERT INTO ebuse.heads (tenant, head) "
                    "SELECT $1::text, COALESCE(MAX(position), 0) FROM ebuse.events "
                    "WHERE tenant = $1::text ON CONFLICT (tenant) DO NOTHING"},
    {"get_head", "SELECT head FROM ebuse.heads WHERE tenant = $1::text"},
    {"key_get", "SELECT body_sha256 = $3::bytea, status, response FROM ebuse.idempotency_keys "
                "WHERE tenant = $1::text AND key = $2::text "
                "AND created_at > now() - make_interval(secs => $4::int8)"},
    // Reached on a conflict only for an expired key not yet swept: the head lock orders
    // this transaction after every other that could have stored the key.
    {"key_put", "INSERT INTO ebuse.idempotency_keys "
                "(tenant, key, body_sha256, status, response, created_at) "
                "VALUES ($1::text, $2::text, $3::bytea, $4::int4, $5::text, now()) "
                "ON CONFLICT (tenant, key) DO UPDATE SET body_sha256 = EXCLUDED.body_sha256, "
                "status = EXCLUDED.status, response = EXCLUDED.response, "
                "created_at = EXCLUDED.created_at"},
    // Bounded, oldest first: one sweep never holds many row locks for long.
    {"key_sweep", "DELETE FROM ebuse.idempotency_keys WHERE tenant = $1::text AND key IN "
                  "(SELECT key FROM ebuse.idempotency_keys WHERE tenant = $1::text "
                  "AND created_at < to_timestamp($2::int8 / 1000.0) "
                  "ORDER BY created_at LIMIT $3::int8)"},
    {"ins1", insert_sql(1)},
    {"ins8", insert_sql(8)},
    {"ins64", insert_sql(64)},
    {"sub_save", "INSERT INTO ebuse.subscriptions (tenant, subscription_id, position, updated_at) "
                 "VALUES ($1::text, $2::text, $3::int8, now()) "
                 "ON CONFLICT (tenant, subscription_id) DO UPDATE SET "
                 "position = EXCLUDED.position, updated_at = EXCLUDED.updated_at"},
    {"sub_delete", "DELETE FROM ebuse.subscriptions WHERE tenant = $1::text "
                   "AND subscription_id = $2::text"},
    // The notification is queued by the transaction and delivered only if it commits,
    // in commit order.
    {"advance", notify ? "WITH u AS (UPDATE ebuse.heads SET head = head + $2::int8 "
                         "WHERE tenant = $1::text RETURNING tenant, head) "
                         "SELECT u.head, pg_notify('ebuse_head', u.tenant || ' ' || u.head) FROM u"
                       : "UPDATE ebuse.heads SET head = head + $2::int8 "
                         "WHERE tenant = $1::text RETURNING head"},
  };
}

} // namespace

pg_writer::pg_writer(const std::string& url, std::string tenant, const pg_options& opts)
  : tenant_(std::move(tenant)), opts_(opts), session_(url, opts.conn, writer_statements(opts.notify)) {
}

caf::expected<std::unique_ptr<pg_writer>>
pg_writer::open(const std::string& url, const std::string& tenant, const pg_options& opts) {
  if (!valid_tenant_name(tenant))
    return make_error(errc::invalid_parameter, "invalid tenant name: " + tenant);
  std::unique_ptr<pg_writer> self{new pg_writer(url, tenant, opts)};
  auto conn = self->session_.get();
  if (!conn)
    return std::move(conn.error());
  pg::params p;
  p.text(tenant);
  if (auto res = (*conn)->run("create_head", p); !res)
    return std::move(res.error());
  auto head = self->committed_head();
  if (!head)
    return std::move(head.error());
  self->head_ = *head;
  return self;
}

caf::expected<int64_t> pg_writer::committed_head() {
  auto conn = session_.get();
  if (!conn)
    return std::move(conn.error());
  pg::params p;
  p.text(tenant_);
  auto res = (*conn)->run("get_head", p);
  if (!res)
    return std::move(res.error());
  return res->rows() == 1 ? res->get_int64(0, 0) : 0;
}

caf::expected<int64_t> pg_writer::sweep_idempotency_keys(int64_t before_ms, int64_t max_rows) {
  auto conn = session_.get();
  if (!conn)
    return std::move(conn.error());
  pg::params p;
  p.text(tenant_).int64(before_ms).int64(max_rows);
  auto res = (*conn)->run("key_sweep", p);
  if (!res)
    return std::move(res.error());
  return res->affected();
}

caf::error pg_writer::missing_head() {
  // Only a hand-made change deletes a head row. Nothing of the group's appends was
  // written (the inserts join the head row); the row is made again for the next group.
  session_.abort_transaction();
  if (auto conn = session_.get()) {
    pg::params p;
    p.text(tenant_);
    (*conn)->run("create_head", p);
  }
  return make_error(errc::internal, "no head row for tenant " + tenant_ + " (recreated)");
}

caf::expected<group_outcome> pg_writer::apply(const write_group& g) {
  auto conn = session_.get();
  if (!conn)
    return std::move(conn.error());
  auto fail = [&](caf::error err) {
    session_.abort_transaction();
    return err;
  };
  bool checks = false;
  for (auto& a : g.appends)
    checks = checks || a.expected_head >= 0 || a.idempotency;
  group_outcome out;
  pipe_.add_sql("BEGIN");
  pipe_.add("lock").text(tenant_);
  if (!checks) {
    // One round trip: the inserts are relative to the locked head.
    auto rows = decide(g, 0, 0, out);
    queue_writes(g, rows, out);
    if (auto err = pipe_.run(**conn, &results_))
      return fail(std::move(err));
    if (results_[1].rows() != 1)
      return missing_head();
    int64_t head = results_[1].get_int64(0, 0);
    for (auto& o : out.appends)
      o.positions = {o.positions.first + head, o.positions.last + head};
    return finish(std::move(out), head, rows.size(), results_.size() - 2);
  }
  // Two round trips: the expected heads and keys are checked against the locked head.
  for (auto& a : g.appends)
    if (a.idempotency)
      pipe_.add("key_get")
        .text(tenant_)
        .text(a.idempotency->key)
        .text(a.idempotency->body_sha256)
        .int64(opts_.idempotency_ttl.count());
  if (auto err = pipe_.run(**conn, &results_))
    return fail(std::move(err));
  if (results_[1].rows() != 1)
    return missing_head();
  int64_t head = results_[1].get_int64(0, 0);
  auto rows = decide(g, head, 2, out);
  queue_writes(g, rows, out);
  if (auto err = pipe_.run(**conn, &results_))
    return fail(std::move(err));
  return finish(std::move(out), head, rows.size(), results_.size() - 2);
}

std::vector<const new_event*> pg_writer::decide(const write_group& g, int64_t head,
                                                std::size_t first_key, group_outcome& out) {
  std::vector<const new_event*> rows;
  std::unordered_map<std::string_view, std::size_t> seen; // key -> first append using it
  rendered_.assign(g.appends.size(), std::string{});
  std::size_t key_result = first_key;
  int64_t cur = head;
  for (std::size_t i = 0; i < g.appends.size(); ++i) {
    const auto& a = g.appends[i];
    auto& o = out.appends.emplace_back();
    if (a.idempotency) {
      const auto& claim = *a.idempotency;
      const auto& found = results_[key_result++];
      if (auto it = seen.find(claim.key); it != seen.end()) {
        // The same key earlier in this group: that append's outcome stands for both.
        const auto& first = g.appends[it->second];
        const auto& prev = out.appends[it->second];
        if (first.idempotency->body_sha256 != claim.body_sha256) {
          o.status = append_status::key_reused;
        } else if (prev.status == append_status::applied) {
          o.status = append_status::replayed;
          o.replay_status = first.idempotency->status;
          o.replay_body = rendered_[it->second];
        } else {
          o = prev;
        }
        continue;
      }
      seen.emplace(claim.key, i);
      if (found.rows() == 1) {
        if (found.get_bool(0, 0)) {
          o.status = append_status::replayed;
          o.replay_status = static_cast<int>(found.get_int64(0, 1));
          o.replay_body = std::string{found.get(0, 2)};
        } else {
          o.status = append_status::key_reused;
        }
        continue;
      }
    }
    if (a.expected_head >= 0 && a.expected_head != cur) {
      o.status = append_status::conflict;
      o.head = cur;
      continue;
    }
    auto n = static_cast<int64_t>(a.events.size());
    o.positions = {cur + 1, cur + n};
    cur += n;
    for (const auto& ev : a.events)
      rows.push_back(&ev);
    if (a.idempotency && a.idempotency->render)
      rendered_[i] = a.idempotency->render(o.positions);
  }
  return rows;
}

void pg_writer::queue_writes(const write_group& g, const std::vector<const new_event*>& rows,
                             const group_outcome& out) {
  std::size_t done = 0;
  while (done < rows.size()) {
    std::size_t left = rows.size() - done;
    std::size_t n = left >= 64 ? 64 : left >= 8 ? 8 : 1;
    auto& p = pipe_.add(n == 64 ? "ins64" : n == 8 ? "ins8" : "ins1");
    p.text(tenant_).int64(static_cast<int64_t>(done) + 1);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& ev = *rows[done + i];
      p.text(ev.type).text(ev.data).text(ev.timestamp);
    }
    done += n;
  }
  for (const auto& s : g.subscriptions) {
    if (s.remove)
      pipe_.add("sub_delete").text(tenant_).text(s.id);
    else
      pipe_.add("sub_save").text(tenant_).text(s.id).int64(s.position);
  }
  for (std::size_t i = 0; i < g.appends.size(); ++i) {
    const auto& a = g.appends[i];
    if (a.idempotency && out.appends[i].status == append_status::applied)
      pipe_.add("key_put")
        .text(tenant_)
        .text(a.idempotency->key)
        .text(a.idempotency->body_sha256)
        .int32(a.idempotency->status)
        .text(rendered_[i]);
  }
  if (!rows.empty())
    pipe_.add("advance").text(tenant_).int64(static_cast<int64_t>(rows.size()));
  pipe_.add_sql("COMMIT");
}

caf::expected<group_outcome> pg_writer::finish(group_outcome out, int64_t head, std::size_t rows,
                                               std::size_t advance_result) {
  out.head = head;
  if (rows > 0) {
    // The pipeline ended with the head update (its result) and COMMIT.
    auto& adv = results_[advance_result];
    if (adv.rows() != 1 || adv.get_int64(0, 0) != head + static_cast<int64_t>(rows))
      return make_error(errc::internal, "head of tenant " + tenant_ + " moved unexpectedly");
    out.head = head + static_cast<int64_t>(rows);
  }
  head_ = out.head;
  return out;
}

} // namespace ebuse
