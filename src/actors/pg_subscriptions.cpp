// Subscription positions of a PostgreSQL tenant: read from the database, shared by nodes.
#include <algorithm>
#include <chrono>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/pg_tenant_reader.hpp"
#include "actors/subscription_actor.hpp"
#include "actors/tenant_stats.hpp"
#include "core/errc.hpp"
#include "storage/pg_reader.hpp"

namespace ebuse {

namespace {

struct pg_subscription_state {
  writer_actor writer;
  std::shared_ptr<pg_reader_pool> pool;
  std::string tenant;
  std::shared_ptr<tenant_stats> stats;

  static inline const char* name = "pg_subscriptions";

  // Every stored position of the tenant (a tenant keeps few: one per consumer).
  caf::expected<std::vector<std::pair<std::string, int64_t>>> all() {
    auto lease = pool->acquire(pg_lease_wait);
    if (!lease)
      return std::move(lease.error());
    return (*lease)->subscriptions(tenant);
  }
};

using pg_subscription_self = subscription_actor::stateful_pointer<pg_subscription_state>;

constexpr auto writer_timeout = std::chrono::seconds(60);

subscription_actor::behavior_type
pg_subscription_impl(pg_subscription_self self, writer_actor writer,
                     std::shared_ptr<pg_reader_pool> pool, std::string tenant,
                     std::shared_ptr<tenant_stats> stats) {
  auto& st = self->state;
  st.writer = std::move(writer);
  st.pool = std::move(pool);
  st.tenant = std::move(tenant);
  st.stats = std::move(stats);
  return {
    [self](sub_get_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto rows = self->state.all();
      if (!rows)
        return deliver<int64_t>(cmd.reply, std::move(rows.error()));
      auto i = std::find_if(rows->begin(), rows->end(),
                            [&](const auto& r) { return r.first == cmd.id; });
      deliver<int64_t>(cmd.reply, i == rows->end() ? int64_t{0} : i->second);
    },
    [self](sub_list_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto rows = self->state.all();
      if (!rows)
        return deliver<subscription_list>(cmd.reply, std::move(rows.error()));
      auto out = furthest_behind(std::move(*rows), cmd.limit);
      deliver<subscription_list>(cmd.reply, std::move(out));
    },
    [self](sub_save_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto reply = std::move(cmd.reply);
      // A negative position asks the writer to delete the stored one.
      self->request(self->state.writer, writer_timeout, save_atom::value, std::move(cmd.id),
                    cmd.remove ? int64_t{-1} : cmd.position)
        .then([reply](int64_t position) { deliver<int64_t>(reply, position); },
              [reply](caf::error& err) { deliver<int64_t>(reply, std::move(err)); });
    },
  };
}

} // namespace

subscription_actor spawn_pg_subscription_actor(caf::actor_system& sys, writer_actor writer,
                                               std::shared_ptr<pg_reader_pool> pool,
                                               std::string tenant,
                                               std::shared_ptr<tenant_stats> stats) {
  return sys.spawn<caf::detached>(pg_subscription_impl, std::move(writer), std::move(pool),
                                  std::move(tenant), std::move(stats));
}

} // namespace ebuse
