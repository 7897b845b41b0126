// A PostgreSQL tenant reader orders its reads into jobs that render pages from rows.
#include "actors/pg_tenant_reader.hpp"

#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/job_line.hpp"
#include "actors/tenant_stats.hpp"
#include "core/errc.hpp"
#include "storage/pg_reader.hpp"

namespace ebuse {

namespace {

/// What a job needs, shared by the jobs of one tenant.
struct pg_read_context {
  std::shared_ptr<pg_reader_pool> pool;
  std::string tenant;
  std::shared_ptr<tenant_stats> stats;

  void noted(const caf::error& err) const {
    if (!err)
      stats->clear_fault(tenant_stats::reader_fault);
    else if (code_of(err) == errc::storage_unavailable)
      stats->mark_fault(tenant_stats::reader_fault);
  }
};

struct pg_reader_state {
  std::shared_ptr<const pg_read_context> ctx;
  std::shared_ptr<tenant_stats> stats;
  job_line jobs;
  bool closing = false;
  caf::error exit_reason;

  static inline const char* name = "pg_tenant_reader";
};

using pg_reader_self = reader_actor::stateful_pointer<pg_reader_state>;

caf::expected<event_page> load(const pg_read_context& ctx, const load_cmd& cmd) {
  auto lease = ctx.pool->acquire(pg_lease_wait);
  if (!lease)
    return std::move(lease.error());
  event_page page;
  if (cmd.as_array)
    page.json.push_back('[');
  if (auto err = (*lease)->load(ctx.tenant, cmd.from, cmd.to, cmd.limit, page, cmd.ndjson,
                                &cmd.types))
    return err;
  if (cmd.as_array)
    page.json.append("]\n");
  return page;
}

void run_load(const pg_read_context& ctx, load_cmd& cmd) {
  auto page = load(ctx, cmd);
  ctx.noted(page ? caf::error{} : page.error());
  if (page) {
    ctx.stats->pages.fetch_add(1, std::memory_order_relaxed);
    ctx.stats->rows.fetch_add(static_cast<uint64_t>(page->count), std::memory_order_relaxed);
    // A page may show events of another node's commit not yet announced.
    ctx.stats->raise_head(page->last_position);
  }
  deliver<event_page>(cmd.reply, std::move(page));
}

caf::expected<std::vector<subscription_entry>> subscription_page(const pg_read_context& ctx,
                                                                 const sub_page_cmd& cmd) {
  auto lease = ctx.pool->acquire(pg_lease_wait);
  if (!lease)
    return std::move(lease.error());
  auto rows = (*lease)->subscriptions_page(ctx.tenant, cmd.after, cmd.limit);
  if (!rows)
    return std::move(rows.error());
  std::vector<subscription_entry> out;
  out.reserve(rows->size());
  for (auto& r : *rows)
    out.push_back({std::move(r.id), r.position, r.updated_at_us / 1000});
  return out;
}

void run_sub_page(const pg_read_context& ctx, sub_page_cmd& cmd) {
  auto page = subscription_page(ctx, cmd);
  ctx.noted(page ? caf::error{} : page.error());
  deliver<std::vector<subscription_entry>>(cmd.reply, std::move(page));
}

void run_health(const pg_read_context& ctx, health_cmd& cmd) {
  auto lease = ctx.pool->acquire(pg_lease_wait);
  caf::expected<int64_t> head = lease ? (*lease)->max_position(ctx.tenant)
                                      : caf::expected<int64_t>{std::move(lease.error())};
  ctx.noted(head ? caf::error{} : head.error());
  if (head)
    ctx.stats->raise_head(*head);
  deliver<int64_t>(cmd.reply, std::move(head));
}

// Queues `cmd` as a job that `run` answers; the command is shared: a job is copied.
template <class Cmd, class Run>
void submit(pg_reader_self self, Cmd&& cmd, Run run) {
  auto& st = self->state;
  handling_scope scope{st.stats->readers, self->mailbox().size()};
  auto c = std::make_shared<std::decay_t<Cmd>>(std::move(cmd));
  auto ctx = st.ctx;
  st.jobs.submit([ctx, c, run] { run(*ctx, *c); });
}

void quit_when_idle(pg_reader_self self) {
  auto& st = self->state;
  if (st.closing && st.jobs.idle())
    self->quit(st.exit_reason);
}

reader_actor::behavior_type pg_reader_impl(pg_reader_self self, pg_reader_setup setup,
                                           std::shared_ptr<tenant_stats> stats) {
  auto& st = self->state;
  st.stats = stats;
  st.ctx = std::make_shared<const pg_read_context>(
    pg_read_context{std::move(setup.connections), std::move(setup.tenant), std::move(stats)});
  st.jobs = job_line{std::move(setup.jobs), setup.max_jobs, self->address()};
  drop_jobs_on_exit(self, quit_when_idle);
  return {
    [self](load_cmd& cmd) { submit(self, std::move(cmd), run_load); },
    [](stream_read_cmd& cmd) {
      deliver<streams::read_result>(
        cmd.reply, make_error(errc::not_supported,
                              "Durable Streams are not supported on PostgreSQL storage"));
    },
    [self](sub_page_cmd& cmd) { submit(self, std::move(cmd), run_sub_page); },
    [self](health_cmd& cmd) { submit(self, std::move(cmd), run_health); },
    [self](job_done_atom) {
      self->state.jobs.finished();
      quit_when_idle(self);
    },
  };
}

} // namespace

reader_actor spawn_pg_tenant_reader(caf::actor_system& sys, pg_reader_setup setup,
                                    std::shared_ptr<tenant_stats> stats) {
  return sys.spawn(pg_reader_impl, std::move(setup), std::move(stats));
}

} // namespace ebuse
