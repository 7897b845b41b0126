// A tenant reader: orders a tenant's reads into page jobs on the storage pool, with pooled connections.
#include "actors/tenant_reader.hpp"

#include <algorithm>
#include <functional>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/job_line.hpp"
#include "actors/messages.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer.hpp"
#include "core/timestamp.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

namespace {

/// A read: run with a connection, or failed with the error that kept it from one.
using read_work = std::function<void(reader_conn*, const caf::error&)>;

struct reader_state {
  reader_setup setup;
  std::shared_ptr<tenant_stats> stats;
  job_line jobs; ///< page jobs, at most setup.max_jobs in flight
  bool closing = false;
  bool closed = false;
  caf::error exit_reason;

  static inline const char* name = "tenant_reader";
};

using reader_self = reader_actor::stateful_pointer<reader_state>;

// Notes a read's outcome: a storage fault marks the tenant and retires the connection.
void noted(tenant_stats& stats, reader_conn& c, const caf::error& err) {
  if (!err) {
    stats.clear_fault(tenant_stats::reader_fault);
  } else if (code_of(err) == errc::storage_unavailable) {
    stats.mark_fault(tenant_stats::reader_fault);
    c.broken = true;
  }
}

// A read arrived: runs it as a job with a pooled connection (or queues it behind the
// jobs in flight).
void submit(reader_self self, read_work work) {
  auto& st = self->state;
  auto conns = st.setup.connections;
  auto stats = st.stats;
  auto path = st.setup.db_path;
  auto opts = st.setup.opts;
  st.jobs.submit([conns, stats, path, opts, work]() {
    auto conn = conns->acquire(path, opts);
    if (!conn) {
      if (code_of(conn.error()) == errc::storage_unavailable)
        stats->mark_fault(tenant_stats::reader_fault);
      work(nullptr, conn.error());
    } else {
      work(conn->get(), caf::none);
      conns->release(path, std::move(*conn));
    }
  });
}

// Once stopping and idle: closes the tenant's idle connections (a job), then quits.
void close_when_idle(reader_self self) {
  auto& st = self->state;
  if (!st.closing || !st.jobs.idle())
    return;
  if (st.closed) {
    self->quit(st.exit_reason);
    return;
  }
  st.closed = true;
  auto conns = st.setup.connections;
  auto path = st.setup.db_path;
  st.jobs.submit([conns, path]() { conns->close_file(path); });
}

// Rough size of one rendered event, to reserve the page buffer once.
constexpr int64_t typical_event_bytes = 320;
constexpr int64_t max_reserve_events = 2000;

void load_page(reader_conn& c, tenant_stats& stats, load_cmd& cmd) {
  event_page page;
  // At most the events that exist in the range: a short range under a large limit
  // must not allocate (and fault in) a buffer for the whole limit.
  // The range may span all of int64 (`to` = INT64_MAX): its width is taken unsigned,
  // where it cannot overflow, and compared with the limit before adding one.
  int64_t last = cmd.to >= 0 ? cmd.to : stats.head.load(std::memory_order_acquire);
  auto cap = static_cast<uint64_t>(std::max<int64_t>(cmd.limit, 1));
  uint64_t width = last < cmd.from ? 0
                                   : static_cast<uint64_t>(last) - static_cast<uint64_t>(cmd.from);
  auto expect = static_cast<int64_t>(width >= cap ? cap : width + 1);
  page.json.reserve(static_cast<size_t>(std::min(expect, max_reserve_events)
                                        * typical_event_bytes)
                    + 4);
  if (cmd.as_array)
    page.json.push_back('[');
  if (auto err = c.store->load(cmd.from, cmd.to, cmd.limit, page, cmd.ndjson, &cmd.types)) {
    noted(stats, c, err);
    deliver<event_page>(cmd.reply, err);
    return;
  }
  if (cmd.as_array)
    page.json.append("]\n");
  stats.pages.fetch_add(1, std::memory_order_relaxed);
  stats.rows.fetch_add(static_cast<uint64_t>(page.count), std::memory_order_relaxed);
  noted(stats, c, caf::none);
  deliver<event_page>(cmd.reply, std::move(page));
}

void read_stream(reader_conn& c, tenant_stats& stats, stream_read_cmd& cmd) {
  if (auto err = c.ensure_streams()) {
    noted(stats, c, err);
    deliver<streams::read_result>(cmd.reply, err);
    return;
  }
  auto res = c.streams->read(cmd.req, ts::unix_now_ms());
  if (!res) {
    noted(stats, c, res.error());
  } else {
    stats.stream_reads.fetch_add(1, std::memory_order_relaxed);
    stats.stream_bytes_read.fetch_add(res->payload.size(), std::memory_order_relaxed);
  }
  deliver<streams::read_result>(cmd.reply, std::move(res));
}

// Wraps a command handled by `run` into a read; `Cmd` is shared: a read_work is copied.
template <class T, class Cmd, class Run>
read_work read_of(std::shared_ptr<tenant_stats> stats, Cmd&& cmd, Run run) {
  auto c = std::make_shared<std::decay_t<Cmd>>(std::move(cmd));
  return [stats, c, run](reader_conn* conn, const caf::error& err) {
    if (!conn)
      deliver<T>(c->reply, err);
    else
      run(*conn, *stats, *c);
  };
}

reader_actor::behavior_type reader_impl(reader_self self, reader_setup setup,
                                        std::shared_ptr<tenant_stats> stats) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.stats = std::move(stats);
  st.jobs = job_line{st.setup.jobs, st.setup.max_jobs, self->address()};
  drop_jobs_on_exit(self, close_when_idle);
  return {
    [self](load_cmd& cmd) {
      handling_scope scope{self->state.stats->readers, self->mailbox().size()};
      submit(self, read_of<event_page>(self->state.stats, std::move(cmd), load_page));
    },
    [self](stream_read_cmd& cmd) {
      handling_scope scope{self->state.stats->readers, self->mailbox().size()};
      submit(self, read_of<streams::read_result>(self->state.stats, std::move(cmd), read_stream));
    },
    [self](sub_page_cmd& cmd) {
      handling_scope scope{self->state.stats->readers, self->mailbox().size()};
      auto run = [](reader_conn& c, tenant_stats& stats, sub_page_cmd& cmd) {
        auto res = c.store->subscription_page(cmd.after, cmd.limit);
        noted(stats, c, res ? caf::error{} : res.error());
        deliver<std::vector<subscription_entry>>(cmd.reply, std::move(res));
      };
      submit(self, read_of<std::vector<subscription_entry>>(self->state.stats, std::move(cmd),
                                                            run));
    },
    [self](health_cmd& cmd) {
      handling_scope scope{self->state.stats->readers, self->mailbox().size()};
      auto run = [](reader_conn& c, tenant_stats& stats, health_cmd& cmd) {
        auto res = c.store->max_position();
        if (res)
          if (auto bad = c.store->check_header())
            res = std::move(bad);
        noted(stats, c, res ? caf::error{} : res.error());
        deliver<int64_t>(cmd.reply, std::move(res));
      };
      submit(self, read_of<int64_t>(self->state.stats, std::move(cmd), run));
    },
    [self](job_done_atom) {
      self->state.jobs.finished();
      close_when_idle(self);
    },
  };
}

} // namespace

reader_actor spawn_tenant_reader(caf::actor_system& sys, reader_setup setup,
                                 std::shared_ptr<tenant_stats> stats) {
  if (!setup.jobs)
    setup.jobs = default_storage_pool();
  if (!setup.connections)
    setup.connections = default_reader_pool();
  return sys.spawn(reader_impl, std::move(setup), std::move(stats));
}

} // namespace ebuse
