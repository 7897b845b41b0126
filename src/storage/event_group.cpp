// One group commit on SQLite: appends decided in order against the head and their
// idempotency keys, all events inserted together, keys and subscriptions, one COMMIT.
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sqlite3.h>

#include "core/errc.hpp"
#include "core/timestamp.hpp"
#include "storage/event_store.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

caf::error store_writer::prepare_once(sql::statement& st, const char* text) {
  if (st.get())
    return caf::none;
  auto res = db_.prepare(text);
  if (!res)
    return std::move(res.error());
  st = std::move(*res);
  return caf::none;
}

caf::expected<std::unique_ptr<stream_writer>>
store_writer::open_streams(const stream_limits& limits) {
  return stream_writer::open(db_, limits);
}

caf::expected<bool> store_writer::stored_key(const idempotency_claim& claim,
                                             append_outcome& o) {
  if (auto err = prepare_once(key_get_, "SELECT body_sha256, status, response, created_ms "
                                        "FROM idempotency_keys WHERE key = ?1"))
    return err;
  auto& st = key_get_;
  st.bind_text(1, claim.key);
  int rc = st.step();
  bool found = false;
  // A key older than the TTL that the sweep has not reached yet counts as gone; the
  // append that uses it again replaces it.
  if (rc == SQLITE_ROW && st.column_int64(3) > ts::unix_now_ms() - key_ttl_ms_) {
    found = true;
    if (st.column_blob(0) == claim.body_sha256) {
      o.status = append_status::replayed;
      o.replay_status = static_cast<int>(st.column_int64(1));
      o.replay_body = std::string{st.column_text(2)};
    } else {
      o.status = append_status::key_reused;
    }
  }
  st.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_.error_from(rc, "look up idempotency key");
  return found;
}

caf::error store_writer::decide(const write_group& g, group_outcome& out) {
  rows_.clear();
  repeat_of_.assign(g.appends.size(), no_repeat);
  std::unordered_map<std::string_view, std::size_t> seen; // key -> first append using it
  int64_t cur = head_;
  for (std::size_t i = 0; i < g.appends.size(); ++i) {
    const auto& a = g.appends[i];
    auto& o = out.appends.emplace_back();
    if (a.idempotency) {
      const auto& claim = *a.idempotency;
      if (auto it = seen.find(claim.key); it != seen.end()) {
        // The same key earlier in this group: that append's outcome stands for both.
        const auto& first = *g.appends[it->second].idempotency;
        const auto prev = out.appends[it->second];
        if (first.body_sha256 != claim.body_sha256) {
          o.status = append_status::key_reused;
        } else if (prev.status == append_status::applied) {
          o.status = append_status::replayed;
          o.replay_status = first.status;
          repeat_of_[i] = it->second; // answered with that append's response
        } else {
          o = prev;
        }
        continue;
      }
      seen.emplace(claim.key, i);
      auto found = stored_key(claim, o);
      if (!found)
        return std::move(found.error());
      if (*found)
        continue;
    }
    if (a.expected_head >= 0 && a.expected_head != cur) {
      o.status = append_status::conflict;
      o.head = cur;
      continue;
    }
    auto n = static_cast<int64_t>(a.events.size());
    // Positions end at INT64_MAX: past it the store is full, as SQLite would answer
    // the insert (computed without overflowing).
    if (n > std::numeric_limits<int64_t>::max() - cur)
      return make_error(errc::storage_full, "no positions left in " + db_.path());
    o.positions = {cur + 1, cur + n};
    cur += n;
    for (const auto& ev : a.events)
      rows_.push_back(&ev);
  }
  return caf::none;
}

caf::error store_writer::insert_decided(group_outcome& out) {
  if (rows_.empty())
    return caf::none;
  auto res = insert_rows(rows_);
  if (!res)
    return std::move(res.error());
  // AUTOINCREMENT continues after the highest position ever used, which is above the
  // head only if the newest events were deleted by hand; the group then lands there.
  const int64_t shift = res->first - (head_ + 1);
  if (shift != 0)
    for (auto& o : out.appends) {
      if (o.status == append_status::applied || o.status == append_status::replayed) {
        if (o.positions.last > 0)
          o.positions = {o.positions.first + shift, o.positions.last + shift};
      } else if (o.status == append_status::conflict && o.head > head_) {
        o.head += shift;
      }
    }
  out.head = res->last;
  return caf::none;
}

namespace {

constexpr std::size_t keys_per_statement = 8;

// INSERT OR REPLACE of `rows` idempotency keys: (key, body_sha256, status, response,
// created_ms) per row.
std::string key_put_sql(std::size_t rows) {
  std::string sql = "INSERT OR REPLACE INTO idempotency_keys "
                    "(key, body_sha256, status, response, created_ms) VALUES ";
  for (std::size_t i = 0; i < rows; ++i)
    sql += i == 0 ? "(?,?,?,?,?)" : ",(?,?,?,?,?)";
  return sql;
}

} // namespace

caf::error store_writer::write_keys(const write_group& g, const group_outcome& out) {
  keyed_.clear();
  for (std::size_t i = 0; i < g.appends.size(); ++i)
    if (g.appends[i].idempotency && out.appends[i].status == append_status::applied)
      keyed_.push_back(i);
  // Keys go in by statements of several rows, as the events do: one step per chunk.
  const int64_t now_ms = ts::unix_now_ms();
  std::size_t done = 0;
  while (done < keyed_.size()) {
    const bool wide = keyed_.size() - done >= keys_per_statement;
    auto& st = wide ? key_put8_ : key_put_;
    const std::size_t n = wide ? keys_per_statement : 1;
    if (!st.get())
      if (auto err = prepare_once(st, key_put_sql(n).c_str()))
        return err;
    for (std::size_t r = 0; r < n; ++r) {
      const std::size_t i = keyed_[done + r];
      const auto& claim = *g.appends[i].idempotency;
      const int col = static_cast<int>(5 * r);
      st.bind_text(col + 1, claim.key);
      st.bind_blob(col + 2, claim.body_sha256);
      st.bind_int64(col + 3, claim.status);
      st.bind_text(col + 4, rendered_[i]);
      st.bind_int64(col + 5, now_ms);
    }
    int rc = st.step();
    st.reset();
    if (rc != SQLITE_DONE)
      return db_.error_from(rc, "store idempotency keys");
    done += n;
  }
  return caf::none;
}

caf::error store_writer::write_keys_and_subscriptions(const write_group& g,
                                                      const group_outcome& out) {
  if (auto err = write_keys(g, out))
    return err;
  for (const auto& s : g.subscriptions) {
    auto err = s.remove ? delete_subscription(s.id) : save_subscription(s.id, s.position);
    if (err)
      return err;
  }
  return caf::none;
}

caf::error store_writer::delete_subscription(std::string_view id) {
  if (auto err = prepare_once(sub_delete_,
                              "DELETE FROM subscriptions WHERE subscription_id = ?1"))
    return err;
  sub_delete_.bind_text(1, id);
  int rc = sub_delete_.step();
  sub_delete_.reset();
  if (rc != SQLITE_DONE)
    return db_.error_from(rc, "delete subscription");
  return caf::none;
}

caf::expected<group_outcome> store_writer::apply(const write_group& g,
                                                 const in_transaction& inside) {
  if (auto err = begin())
    return err;
  auto fail = [this](caf::error err) {
    rollback();
    return err;
  };
  group_outcome out;
  out.head = head_;
  out.appends.reserve(g.appends.size());
  if (auto err = decide(g, out))
    return fail(std::move(err));
  if (auto err = insert_decided(out))
    return fail(std::move(err));
  rendered_.clear();
  rendered_.resize(g.appends.size());
  for (std::size_t i = 0; i < g.appends.size(); ++i) {
    const auto& claim = g.appends[i].idempotency;
    auto& o = out.appends[i];
    if (!claim || !claim->render)
      continue;
    if (o.status == append_status::applied)
      rendered_[i] = claim->render(o.positions);
    else if (repeat_of_[i] != no_repeat)
      o.replay_body = rendered_[repeat_of_[i]];
  }
  if (auto err = write_keys_and_subscriptions(g, out))
    return fail(std::move(err));
  if (inside)
    if (auto err = inside())
      return fail(std::move(err));
  if (auto err = commit())
    return err;
  head_ = out.head;
  return out;
}

} // namespace ebuse
