// Starting the actors of a tenant stored in PostgreSQL.
#include <caf/actor_system.hpp>

#include "actors/pg_tenant_reader.hpp"
#include "actors/tenant_writer.hpp"
#include "actors/subscription_actor.hpp"
#include "actors/tenant.hpp"
#include "core/errc.hpp"
#include "storage/pg_log_writer.hpp"
#include "storage/pg_reader.hpp"
#include "storage/pg_store.hpp"

namespace ebuse {

caf::expected<std::shared_ptr<tenant>> tenant::start_pg(caf::actor_system& sys,
                                                        const tenant_options& opts) {
  if (!opts.pg_readers || !opts.pg_jobs)
    return make_error(errc::internal, "tenant " + opts.name + ": no PostgreSQL reader pool");
  // The writer's connection is the tenant's own; the schema was migrated at start.
  pg_options popts;
  popts.idempotency_ttl =
    std::chrono::duration_cast<std::chrono::seconds>(opts.writer.idempotency_ttl);
  auto store = pg_writer::open(opts.database_url, opts.name, popts);
  if (!store)
    return std::move(store.error());
  std::shared_ptr<tenant> result{new tenant};
  result->name_ = opts.name;
  result->on_postgres_ = true;
  result->stats_ = std::make_shared<tenant_stats>();
  result->stats_->unhealthy = opts.unhealthy;
  result->queue_events_ = opts.writer.queue_events;
  result->queue_bytes_ = opts.writer.queue_bytes;
  if (auto head = (*store)->committed_head())
    result->stats_->head.store(*head);
  else
    return std::move(head.error());
  result->signal_ = std::make_shared<stream_signal>();
  auto wopts = opts.writer;
  wopts.signal = result->signal_;
  auto log = std::make_shared<pg_log_writer>(std::move(*store), opts.database_url);
  auto writer = spawn_writer_with_front(sys, std::move(log), result->stats_, wopts);
  result->writer_ = std::move(writer.actor);
  result->writer_front_ = std::move(writer.front);
  result->subscriptions_ = spawn_pg_subscription_actor(sys, result->writer_, opts.pg_readers,
                                                       opts.pg_jobs, opts.name, result->stats_);
  pg_reader_setup rs;
  rs.tenant = opts.name;
  rs.connections = opts.pg_readers;
  rs.jobs = opts.pg_jobs;
  rs.max_jobs = opts.readers;
  result->readers_.push_back(spawn_pg_tenant_reader(sys, std::move(rs), result->stats_));
  return result;
}

void tenant::observe_head(int64_t head) {
  if (stats_->raise_head(head))
    signal_->notify({event_log_signal});
}

} // namespace ebuse
