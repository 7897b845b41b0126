// A PostgreSQL tenant reader renders pages from rows, on a connection borrowed per read.
#include "actors/pg_tenant_reader.hpp"

#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/spin.hpp"
#include "actors/tenant_stats.hpp"
#include "core/errc.hpp"
#include "storage/pg_reader.hpp"

namespace ebuse {

namespace {

struct pg_reader_state {
  std::shared_ptr<pg_reader_pool> pool;
  std::string tenant;
  std::shared_ptr<tenant_stats> stats;
  std::chrono::microseconds spin{0};

  static inline const char* name = "pg_tenant_reader";

  void noted(const caf::error& err) {
    if (!err)
      stats->clear_fault(tenant_stats::reader_fault);
    else if (code_of(err) == errc::storage_unavailable)
      stats->mark_fault(tenant_stats::reader_fault);
  }
};

using pg_reader_self = reader_actor::stateful_pointer<pg_reader_state>;

caf::expected<event_page> load(pg_reader_state& st, const load_cmd& cmd) {
  auto lease = st.pool->acquire(pg_lease_wait);
  if (!lease)
    return std::move(lease.error());
  event_page page;
  if (cmd.as_array)
    page.json.push_back('[');
  if (auto err = (*lease)->load(st.tenant, cmd.from, cmd.to, cmd.limit, page, cmd.ndjson,
                                &cmd.types))
    return err;
  if (cmd.as_array)
    page.json.append("]\n");
  return page;
}

caf::expected<std::vector<subscription_entry>> subscription_page(pg_reader_state& st,
                                                                 const sub_page_cmd& cmd) {
  auto lease = st.pool->acquire(pg_lease_wait);
  if (!lease)
    return std::move(lease.error());
  auto rows = (*lease)->subscriptions_page(st.tenant, cmd.after, cmd.limit);
  if (!rows)
    return std::move(rows.error());
  std::vector<subscription_entry> out;
  out.reserve(rows->size());
  for (auto& r : *rows)
    out.push_back({std::move(r.id), r.position, r.updated_at_us / 1000});
  return out;
}

reader_actor::behavior_type pg_reader_impl(pg_reader_self self,
                                           std::shared_ptr<pg_reader_pool> pool,
                                           std::string tenant,
                                           std::shared_ptr<tenant_stats> stats,
                                           std::chrono::microseconds spin) {
  auto& st = self->state;
  st.pool = std::move(pool);
  st.tenant = std::move(tenant);
  st.stats = std::move(stats);
  st.spin = spin;
  return {
    [self](load_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      auto page = load(st, cmd);
      st.noted(page ? caf::error{} : page.error());
      if (page) {
        st.stats->pages.fetch_add(1, std::memory_order_relaxed);
        st.stats->rows.fetch_add(static_cast<uint64_t>(page->count),
                                 std::memory_order_relaxed);
        // A page may show events of another node's commit not yet announced.
        st.stats->raise_head(page->last_position);
      }
      deliver<event_page>(cmd.reply, std::move(page));
      spin_for_mail(self, st.spin);
    },
    [](stream_read_cmd& cmd) {
      deliver<streams::read_result>(
        cmd.reply, make_error(errc::not_supported,
                              "Durable Streams are not supported on PostgreSQL storage"));
    },
    [self](sub_page_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      auto page = subscription_page(st, cmd);
      st.noted(page ? caf::error{} : page.error());
      deliver<std::vector<subscription_entry>>(cmd.reply, std::move(page));
    },
    [self](health_cmd& cmd) {
      auto& st = self->state;
      handling_scope scope{st.stats->readers, self->mailbox().size()};
      auto lease = st.pool->acquire(pg_lease_wait);
      caf::expected<int64_t> head = lease ? (*lease)->max_position(st.tenant)
                                          : caf::expected<int64_t>{std::move(lease.error())};
      st.noted(head ? caf::error{} : head.error());
      if (head)
        st.stats->raise_head(*head);
      deliver<int64_t>(cmd.reply, std::move(head));
    },
    [](job_done_atom) {
      // Only the SQLite reader runs jobs.
    },
  };
}

} // namespace

reader_actor spawn_pg_tenant_reader(caf::actor_system& sys, std::shared_ptr<pg_reader_pool> pool,
                                    std::string tenant, std::shared_ptr<tenant_stats> stats,
                                    std::chrono::microseconds spin) {
  return sys.spawn<caf::detached>(pg_reader_impl, std::move(pool), std::move(tenant),
                                  std::move(stats), spin);
}

} // namespace ebuse
