// The tenant writer actor: the writes that pass its mailbox, its timers and its close.
#include "actors/tenant_writer.hpp"

#include <algorithm>
#include <deque>
#include <mutex>
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

writer_actor me_of(writer_self self) {
  return caf::actor_cast<writer_actor>(self);
}

void enqueue(writer_self self, pending_op op) {
  auto& st = self->state;
  if (st.closing) {
    refuse(*st.stats, op);
    return;
  }
  queue_op(st.line, *st.pool, me_of(self), std::move(op));
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

// While some stream can expire, a sweep runs every interval in a group of its own.
void schedule_sweep(writer_self self) {
  auto& st = self->state;
  if (st.sweep_scheduled || st.closing || !st.may_expire)
    return;
  st.sweep_scheduled = true;
  self->delayed_send(self, st.sweep_interval, sweep_atom::value);
}

// The steps the job finished that need the actor: subscription promises, the timers,
// the close.
void job_done(writer_self self) {
  auto& st = self->state;
  std::deque<finished_step> done;
  {
    std::lock_guard<std::mutex> guard{st.line->mtx};
    done.swap(st.line->finished);
  }
  for (auto& f : done) {
    switch (f.k) {
      case step::kind::group:
        for (auto& op : f.subs) {
          if (op.sub_error)
            op.sub_promise.deliver(op.sub_error);
          else
            op.sub_promise.deliver(op.sub.remove ? int64_t{0} : op.sub.position);
        }
        st.may_expire = f.may_expire;
        schedule_sweep(self);
        break;
      case step::kind::key_sweep:
        if (!st.closing)
          self->delayed_send(self, f.next_key_sweep, key_sweep_atom::value);
        break;
      case step::kind::close:
        self->quit(st.exit_reason);
        return;
      case step::kind::import:
        break;
    }
  }
}

writer_actor::behavior_type writer_impl(writer_self self, std::shared_ptr<write_line> line,
                                        std::shared_ptr<worker_pool> pool) {
  auto& st = self->state;
  st.stats = line->core->stats;
  st.sweep_interval = line->core->opts.sweep_interval;
  st.has_streams = line->core->streams != nullptr;
  st.may_expire = line->core->may_expire;
  st.line = std::move(line);
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
    queue_step(st.line, *st.pool, me_of(self), std::move(close));
  });
  return {
    [self](append_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      enqueue(self, make_append_op(cmd));
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
      auto& st = self->state;
      queue_step(st.line, *st.pool, me_of(self), std::move(s));
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
      auto& st = self->state;
      queue_step(st.line, *st.pool, me_of(self), std::move(s));
    },
    [self](job_done_atom) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      job_done(self);
    },
  };
}

} // namespace

} // namespace writer

spawned_writer spawn_writer_with_front(caf::actor_system& sys,
                                       std::shared_ptr<log_writer> store,
                                       std::shared_ptr<tenant_stats> stats,
                                       writer_options opts) {
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
  auto line = std::make_shared<writer::write_line>();
  line->max_group_events = std::max<std::size_t>(core->opts.max_group_events, 1);
  line->stats = core->stats;
  line->core = std::move(core);
  spawned_writer result;
  result.actor = sys.spawn(writer::writer_impl, line, pool);
  result.front = std::make_shared<writer_front>(std::move(line), std::move(pool), result.actor);
  return result;
}

writer_actor spawn_tenant_writer(caf::actor_system& sys, std::shared_ptr<log_writer> store,
                                 std::shared_ptr<tenant_stats> stats, writer_options opts) {
  return spawn_writer_with_front(sys, std::move(store), std::move(stats), std::move(opts))
    .actor;
}

} // namespace ebuse
