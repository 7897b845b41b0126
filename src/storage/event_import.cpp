// Imports of exported events: explicit positions, one transaction per chunk.
#include <sqlite3.h>

#include "core/errc.hpp"
#include "storage/event_store.hpp"

namespace ebuse {

namespace {

constexpr int row_counts[] = {1, 8, 64};

std::string import_sql(int rows) {
  std::string sql = "INSERT INTO events (position, type, data, timestamp) VALUES ";
  for (int i = 0; i < rows; ++i)
    sql += i == 0 ? "(?,?,?,?)" : ",(?,?,?,?)";
  return sql;
}

caf::error check_positions(const std::vector<positioned_event>& events, int64_t head) {
  int64_t previous = head;
  for (const auto& ev : events) {
    if (ev.position <= previous)
      return make_error(errc::invalid_event,
                        "position " + std::to_string(ev.position) + " is not above "
                          + std::to_string(previous) + "; positions must increase");
    previous = ev.position;
  }
  return caf::none;
}

} // namespace

caf::expected<append_result>
store_writer::import_events(const std::vector<positioned_event>& events,
                            int64_t expected_head) {
  if (head_ != expected_head)
    return make_error(errc::tenant_not_empty,
                      "the tenant holds events up to position " + std::to_string(head_)
                        + "; an import goes into an empty tenant only");
  if (events.empty())
    return append_result{};
  if (auto err = check_positions(events, head_))
    return err;
  for (int i = 0; i < 3; ++i) {
    if (import_[i].get())
      continue;
    auto st = db_.prepare(import_sql(row_counts[i]));
    if (!st)
      return std::move(st.error());
    import_[i] = std::move(*st);
  }
  if (auto err = begin())
    return err;
  std::size_t done = 0;
  while (done < events.size()) {
    std::size_t left = events.size() - done;
    int which = left >= 64 ? 2 : left >= 8 ? 1 : 0;
    auto& st = import_[which];
    auto n = static_cast<std::size_t>(row_counts[which]);
    for (std::size_t i = 0; i < n; ++i) {
      const auto& ev = events[done + i];
      int col = static_cast<int>(4 * i);
      st.bind_int64(col + 1, ev.position);
      st.bind_text(col + 2, ev.event.type);
      st.bind_blob(col + 3, ev.event.data);
      st.bind_text(col + 4, ev.event.timestamp);
    }
    int rc = st.step();
    st.reset();
    if (rc != SQLITE_DONE) {
      auto err = db_.error_from(rc, "import events");
      rollback();
      return err;
    }
    done += n;
  }
  if (auto err = commit())
    return err;
  head_ = events.back().position;
  return append_result{events.front().position, events.back().position};
}

} // namespace ebuse
