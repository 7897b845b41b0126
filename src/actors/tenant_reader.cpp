// A tenant reader renders pages of events straight from SQLite rows into wire JSON.
#include "actors/tenant_reader.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"
#include "actors/spin.hpp"
#include "actors/tenant_stats.hpp"
#include "core/timestamp.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

namespace {

struct reader_state {
  std::string db_path;
  store_options opts;
  std::unique_ptr<store_reader> store;
  std::unique_ptr<stream_reader> streams; ///< on store's connection; reset before it
  std::shared_ptr<tenant_stats> stats;
  std::chrono::microseconds spin{0};

  static inline const char* name = "tenant_reader";

  // Opens the connection lazily so that a reader survives a database that is
  // temporarily unavailable, and recovers once it is back.
  caf::error ensure_open() {
    if (store)
      return caf::none;
    auto res = store_reader::open(db_path, opts);
    if (!res)
      return std::move(res.error());
    store = std::move(*res);
    return caf::none;
  }

  // Stream statements are prepared on first use, on the same connection.
  caf::error ensure_streams() {
    if (auto err = ensure_open())
      return err;
    if (streams)
      return caf::none;
    auto res = stream_reader::open(store->connection());
    if (!res)
      return std::move(res.error());
    streams = std::move(*res);
    return caf::none;
  }

  void drop_on_fault(const caf::error& err) {
    if (code_of(err) == errc::storage_unavailable) {
      stats->mark_fault(tenant_stats::reader_fault);
      streams.reset();
      store.reset();
    }
  }

  // Opens the connection, noting a failure as a fault of the tenant's storage.
  caf::error open_checked() {
    auto err = ensure_open();
    if (err)
      drop_on_fault(err);
    return err;
  }

  void succeeded() {
    stats->clear_fault(tenant_stats::reader_fault);
  }
};

using reader_self = reader_actor::stateful_pointer<reader_state>;

// Rough size of one rendered event, to reserve the page buffer once.
constexpr int64_t typical_event_bytes = 320;
constexpr int64_t max_reserve_events = 2000;

reader_actor::behavior_type reader_impl(reader_self self, std::string db_path,
                                        store_options opts, std::shared_ptr<tenant_stats> stats,
                                        std::chrono::microseconds spin) {
  self->state.db_path = std::move(db_path);
  self->state.opts = opts;
  self->state.stats = std::move(stats);
  self->state.spin = spin;
  return {
    [self](load_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      if (auto err = st.open_checked()) {
        deliver<event_page>(cmd.reply, err);
        return;
      }
      event_page page;
      // At most the events that exist in the range: a short range under a large limit
      // must not allocate (and fault in) a buffer for the whole limit.
      // The range may span all of int64 (`to` = INT64_MAX): its width is taken unsigned,
      // where it cannot overflow, and compared with the limit before adding one.
      int64_t last = cmd.to >= 0 ? cmd.to : st.stats->head.load(std::memory_order_acquire);
      auto cap = static_cast<uint64_t>(std::max<int64_t>(cmd.limit, 1));
      uint64_t width = last < cmd.from ? 0
                                       : static_cast<uint64_t>(last) - static_cast<uint64_t>(cmd.from);
      auto expect = static_cast<int64_t>(width >= cap ? cap : width + 1);
      page.json.reserve(static_cast<size_t>(std::min(expect, max_reserve_events)
                                            * typical_event_bytes)
                        + 4);
      if (cmd.as_array)
        page.json.push_back('[');
      if (auto err = st.store->load(cmd.from, cmd.to, cmd.limit, page, cmd.ndjson, &cmd.types)) {
        st.drop_on_fault(err);
        deliver<event_page>(cmd.reply, err);
        return;
      }
      if (cmd.as_array)
        page.json.append("]\n");
      st.stats->pages.fetch_add(1, std::memory_order_relaxed);
      st.stats->rows.fetch_add(static_cast<uint64_t>(page.count), std::memory_order_relaxed);
      st.succeeded();
      deliver<event_page>(cmd.reply, std::move(page));
      spin_for_mail(self, st.spin);
    },
    [self](stream_read_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      if (auto err = st.ensure_streams()) {
        deliver<streams::read_result>(cmd.reply, err);
        return;
      }
      auto res = st.streams->read(cmd.req, ts::unix_now_ms());
      if (!res) {
        st.drop_on_fault(res.error());
      } else {
        st.stats->stream_reads.fetch_add(1, std::memory_order_relaxed);
        st.stats->stream_bytes_read.fetch_add(res->payload.size(), std::memory_order_relaxed);
      }
      deliver<streams::read_result>(cmd.reply, std::move(res));
      spin_for_mail(self, st.spin);
    },
    [self](sub_page_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      if (auto err = st.open_checked()) {
        deliver<std::vector<subscription_entry>>(cmd.reply, err);
        return;
      }
      auto res = st.store->subscription_page(cmd.after, cmd.limit);
      if (!res)
        st.drop_on_fault(res.error());
      else
        st.succeeded();
      deliver<std::vector<subscription_entry>>(cmd.reply, std::move(res));
    },
    [self](health_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      if (auto err = st.open_checked()) {
        deliver<int64_t>(cmd.reply, err);
        return;
      }
      auto res = st.store->max_position();
      if (!res)
        st.drop_on_fault(res.error());
      else
        st.succeeded();
      deliver<int64_t>(cmd.reply, std::move(res));
    },
  };
}

} // namespace

reader_actor spawn_tenant_reader(caf::actor_system& sys, std::string db_path,
                                 store_options opts, std::shared_ptr<tenant_stats> stats,
                                 std::chrono::microseconds spin) {
  return sys.spawn<caf::detached>(reader_impl, std::move(db_path), opts, std::move(stats),
                                  spin);
}

} // namespace ebuse
