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
#include "storage/worker_pool.hpp"

namespace ebuse {

namespace {

using position_rows = std::vector<std::pair<std::string, int64_t>>;

/// Where the reads of one tenant's positions run.
struct pg_positions {
  std::shared_ptr<pg_reader_pool> pool;
  std::shared_ptr<worker_pool> jobs;
  std::string tenant;
};

// Runs `answer` with every stored position of the tenant (a tenant keeps few: one per
// consumer) as a job: the query blocks, the actor must not.
template <class F>
void read_positions(const std::shared_ptr<const pg_positions>& where, F answer) {
  auto job = [where, answer]() mutable {
    auto lease = where->pool->acquire(pg_lease_wait);
    if (!lease)
      answer(caf::expected<position_rows>{std::move(lease.error())});
    else
      answer((*lease)->subscriptions(where->tenant));
  };
  if (!where->jobs->submit(job))
    job(); // the pool has stopped (process exit): the read still runs, here
}

struct pg_subscription_state {
  writer_actor writer;
  std::shared_ptr<const pg_positions> where;
  std::shared_ptr<tenant_stats> stats;

  static inline const char* name = "pg_subscriptions";
};

using pg_subscription_self = subscription_actor::stateful_pointer<pg_subscription_state>;

constexpr auto writer_timeout = std::chrono::seconds(60);

subscription_actor::behavior_type
pg_subscription_impl(pg_subscription_self self, writer_actor writer,
                     std::shared_ptr<const pg_positions> where,
                     std::shared_ptr<tenant_stats> stats) {
  auto& st = self->state;
  st.writer = std::move(writer);
  st.where = std::move(where);
  st.stats = std::move(stats);
  return {
    [self](sub_get_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto c = std::make_shared<sub_get_cmd>(std::move(cmd));
      read_positions(self->state.where, [c](caf::expected<position_rows> rows) {
        if (!rows)
          return deliver<int64_t>(c->reply, std::move(rows.error()));
        auto i = std::find_if(rows->begin(), rows->end(),
                              [&](const auto& r) { return r.first == c->id; });
        deliver<int64_t>(c->reply, i == rows->end() ? int64_t{0} : i->second);
      });
    },
    [self](sub_list_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto c = std::make_shared<sub_list_cmd>(std::move(cmd));
      read_positions(self->state.where, [c](caf::expected<position_rows> rows) {
        if (!rows)
          return deliver<subscription_list>(c->reply, std::move(rows.error()));
        deliver<subscription_list>(c->reply, furthest_behind(std::move(*rows), c->limit));
      });
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
                                               std::shared_ptr<worker_pool> jobs,
                                               std::string tenant,
                                               std::shared_ptr<tenant_stats> stats) {
  auto where = std::make_shared<const pg_positions>(
    pg_positions{std::move(pool), std::move(jobs), std::move(tenant)});
  return sys.spawn(pg_subscription_impl, std::move(writer), std::move(where), std::move(stats));
}

} // namespace ebuse
