// The tenant writer actor: orders writes into groups, one storage job in flight at a time.
#include "actors/tenant_writer.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/messages.hpp"
#include "actors/stream_ops.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer_state.hpp"

namespace ebuse {

std::shared_ptr<worker_pool> default_storage_pool() {
  static auto pool = std::make_shared<worker_pool>(default_storage_workers);
  return pool;
}

namespace writer {

namespace {

// Drops the appends whose waiter has given up before they are written: nobody would
// learn their positions, and a client retrying after its timeout must not find them
// written twice.
void drop_abandoned(writer_state& st, std::vector<pending_op>& ops) {
  auto gone = [&st](pending_op& op) {
    if (!is_append(op))
      return false;
    if (op.reply ? !op.reply->abandoned() : !op.outcome || !op.outcome->abandoned())
      return false;
    release(*st.stats, op);
    st.stats->dropped_abandoned.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  ops.erase(std::remove_if(ops.begin(), ops.end(), gone), ops.end());
}

// Answers a write that came after the exit message: the tenant is closing.
void refuse(writer_state& st, pending_op& op) {
  auto err = make_error(errc::storage_unavailable, "the tenant is stopping");
  release(*st.stats, op);
  if (op.stream)
    answer_stream_op(*op.stream, err);
  else if (op.is_subscription)
    op.sub_promise.deliver(err);
  else if (op.outcome)
    deliver<append_outcome>(op.outcome, err);
  else if (op.reply)
    deliver<append_result>(op.reply, err);
}

// Runs `work` on the storage pool against the writer's storage side, then tells the
// actor. The job holds the core, never the pool (a job dropping the pool's last holder
// would join its own thread).
template <class F>
void run_job(writer_self self, step::kind k, F work) {
  auto& st = self->state;
  st.busy = true;
  st.running = k;
  auto me = caf::actor_cast<writer_actor>(self);
  auto core = st.core;
  auto job = [core, me, work]() mutable {
    work(*core);
    caf::anon_send(me, job_done_atom::value);
  };
  if (!st.pool->submit(job))
    job(); // the pool has stopped (process exit): the work still runs, here
}

// Starts the next step unless a job is in flight.
void pump(writer_self self) {
  auto& st = self->state;
  while (!st.busy && !st.steps.empty()) {
    step s = std::move(st.steps.front());
    st.steps.pop_front();
    switch (s.k) {
      case step::kind::group:
        drop_abandoned(st, s.ops);
        if (s.ops.empty())
          continue;
        st.core->batch = std::move(s.ops);
        run_job(self, s.k, [](writer_core& c) { commit_batch(c); });
        break;
      case step::kind::import: {
        auto cmd = std::make_shared<import_cmd>(std::move(s.import));
        run_job(self, s.k, [cmd](writer_core& c) { import_chunk(c, *cmd); });
        break;
      }
      case step::kind::key_sweep:
        run_job(self, s.k, [](writer_core& c) { sweep_keys(c); });
        break;
      case step::kind::close:
        run_job(self, s.k, [](writer_core& c) { close_store(c); });
        break;
    }
  }
}

void enqueue(writer_self self, pending_op op) {
  auto& st = self->state;
  if (st.closing) {
    refuse(st, op);
    return;
  }
  const std::size_t n = is_append(op) ? op.append.events.size() : 1;
  if (st.steps.empty() || st.steps.back().k != step::kind::group
      || st.steps.back().events >= st.max_group_events)
    st.steps.emplace_back();
  auto& g = st.steps.back();
  g.events += n;
  g.ops.push_back(std::move(op));
  if (st.busy)
    return; // the end of the job in flight starts this group
  if (g.events >= st.max_group_events) {
    pump(self);
  } else if (!st.flush_scheduled) {
    // The flush message queues behind every write already in the mailbox, so all of
    // them join this group.
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

void enqueue_stream(writer_self self, std::unique_ptr<stream_op> sop) {
  if (!self->state.has_streams) {
    // A storage without Durable Streams (PostgreSQL): refused alone, never failing the
    // appends of the group it would have joined.
    answer_stream_op(*sop, make_error(errc::not_supported,
                                      "Durable Streams are not supported on this storage"));
    return;
  }
  pending_op op;
  op.stream = std::move(sop);
  enqueue(self, std::move(op));
}

void push_step(writer_self self, step s) {
  self->state.steps.push_back(std::move(s));
  pump(self);
}

// While some stream can expire, a sweep runs every interval in a group of its own.
void schedule_sweep(writer_self self) {
  auto& st = self->state;
  if (st.sweep_scheduled || st.closing || !st.may_expire)
    return;
  st.sweep_scheduled = true;
  self->delayed_send(self, st.sweep_interval, sweep_atom::value);
}

// The job in flight has finished: what it left for the actor, then the next step.
void job_done(writer_self self) {
  auto& st = self->state;
  st.busy = false;
  switch (st.running) {
    case step::kind::group:
      for (auto& op : st.core->batch)
        if (op.is_subscription) {
          if (op.sub_error)
            op.sub_promise.deliver(op.sub_error);
          else
            op.sub_promise.deliver(op.sub.remove ? int64_t{0} : op.sub.position);
        }
      st.core->batch.clear();
      st.may_expire = st.core->may_expire;
      schedule_sweep(self);
      break;
    case step::kind::key_sweep:
      if (!st.closing)
        self->delayed_send(self, st.core->next_key_sweep, key_sweep_atom::value);
      break;
    case step::kind::close:
      self->quit(st.exit_reason);
      return;
    case step::kind::import:
      break;
  }
  pump(self);
}

writer_actor::behavior_type writer_impl(writer_self self, std::shared_ptr<writer_core> core,
                                        std::shared_ptr<worker_pool> pool) {
  auto& st = self->state;
  st.stats = core->stats;
  st.max_group_events = std::max<std::size_t>(core->opts.max_group_events, 1);
  st.sweep_interval = core->opts.sweep_interval;
  st.has_streams = core->streams != nullptr;
  st.may_expire = core->may_expire;
  st.core = std::move(core);
  st.pool = std::move(pool);
  schedule_sweep(self);
  self->send(self, key_sweep_atom::value);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.closing)
      return;
    st.closing = true;
    st.exit_reason = msg.reason;
    // Everything queued before the exit message commits, then the close.
    step close;
    close.k = step::kind::close;
    push_step(self, std::move(close));
  });
  return {
    [self](append_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      pending_op op;
      op.append.events = std::move(cmd.events);
      op.append.expected_head = cmd.expected_head;
      op.append.idempotency = std::move(cmd.idempotency);
      op.reply = std::move(cmd.reply);
      op.outcome = std::move(cmd.outcome);
      op.queued_events = cmd.queued_events;
      op.queued_bytes = cmd.queued_bytes;
      enqueue(self, std::move(op));
    },
    [self](import_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      if (self->state.closing) {
        deliver<append_result>(cmd.reply,
                               make_error(errc::storage_unavailable, "the tenant is stopping"));
        return;
      }
      // After the group waiting before it: the head it expects is checked against
      // every write that came first.
      step s;
      s.k = step::kind::import;
      s.import = std::move(cmd);
      push_step(self, std::move(s));
    },
    [self](save_atom, std::string& id,
           int64_t position) -> caf::typed_response_promise<int64_t> {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      pending_op op;
      op.is_subscription = true;
      op.sub.id = std::move(id);
      op.sub.position = position < 0 ? 0 : position;
      op.sub.remove = position < 0;
      op.sub_promise = self->make_response_promise<int64_t>();
      auto rp = op.sub_promise;
      enqueue(self, std::move(op));
      return rp;
    },
    [self](stream_write_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      auto op = std::make_unique<stream_op>();
      op->cmd = std::move(cmd);
      enqueue_stream(self, std::move(op));
    },
    [self](stream_touch_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      auto op = std::make_unique<stream_op>();
      op->k = stream_op::kind::touch;
      op->touch_id = cmd.stream_id;
      op->touch_at = cmd.at_ms;
      enqueue_stream(self, std::move(op));
    },
    [self](sweep_atom) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      self->state.sweep_scheduled = false;
      if (self->state.closing)
        return;
      auto op = std::make_unique<stream_op>();
      op->k = stream_op::kind::sweep;
      enqueue_stream(self, std::move(op));
    },
    [self](key_sweep_atom) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      if (self->state.closing)
        return;
      step s;
      s.k = step::kind::key_sweep;
      push_step(self, std::move(s));
    },
    [self](flush_atom) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      self->state.flush_scheduled = false;
      pump(self);
    },
    [self](job_done_atom) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      job_done(self);
    },
  };
}

} // namespace

} // namespace writer

writer_actor spawn_tenant_writer(caf::actor_system& sys, std::shared_ptr<log_writer> store,
                                 std::shared_ptr<tenant_stats> stats, writer_options opts) {
  auto pool = opts.pool ? std::move(opts.pool) : default_storage_pool();
  opts.pool.reset();
  auto core = std::make_shared<writer::writer_core>();
  if (auto sw = store->open_streams(opts.streams))
    core->streams = std::move(*sw);
  stats->raise_head(store->head());
  core->store = std::move(store);
  core->stats = std::move(stats);
  core->opts = std::move(opts);
  core->next_own_checkpoint = writer::own_checkpoint_base(*core);
  core->may_expire = core->streams && core->streams->may_expire();
  return sys.spawn(writer::writer_impl, std::move(core), std::move(pool));
}

} // namespace ebuse
