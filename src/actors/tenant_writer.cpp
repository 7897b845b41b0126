// Group commit: every write waiting in the mailbox goes into one SQLite transaction.
#include "actors/tenant_writer.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/typed_response_promise.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "actors/checkpointer.hpp"
#include "actors/messages.hpp"
#include "actors/spin.hpp"
#include "actors/stream_ops.hpp"
#include "actors/stream_signal.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer_state.hpp"
#include "core/timestamp.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace writer {


bool is_append(const pending_op& op) {
  return !op.stream && !op.is_subscription;
}

// Applies `ops` in one transaction (log_writer::apply); each append's outcome lands in
// its op. The stream operations run inside the same transaction, in mailbox order,
// each deciding on the state the ones before it left.
caf::error apply_group(writer_state& st, std::vector<pending_op>& ops) {
  if (st.opts.before_commit)
    st.opts.before_commit(ops.size());
  auto& g = st.group;
  g.appends.clear();
  g.subscriptions.clear();
  bool streams = false;
  for (auto& op : ops) {
    if (op.stream)
      streams = true;
    else if (op.is_subscription)
      g.subscriptions.push_back(op.sub);
    else
      g.appends.push_back(std::move(op.append));
  }
  const int64_t now = ts::unix_now_ms();
  in_transaction inside;
  if (streams)
    inside = [&st, &ops, now]() -> caf::error {
      for (auto& op : ops) {
        if (!op.stream)
          continue;
        if (!st.streams)
          return make_error(errc::storage_unavailable, "streams unavailable");
        if (auto err = apply_stream_op(*st.streams, *op.stream, now))
          return err;
      }
      return caf::none;
    };
  auto res = st.store->apply(g, inside);
  // The events go back to their ops: a group that failed may be retried op by op.
  std::size_t i = 0;
  for (auto& op : ops)
    if (is_append(op))
      op.append = std::move(g.appends[i++]);
  if (!res)
    return std::move(res.error());
  i = 0;
  for (auto& op : ops)
    if (is_append(op))
      op.result = std::move(res->appends[i++]);
  return caf::none;
}

// Takes an answered or dropped append out of the queue bounds.
void release(tenant_stats& stats, pending_op& op) {
  if (op.queued_events)
    stats.queued_events.fetch_sub(std::exchange(op.queued_events, 0), std::memory_order_relaxed);
  if (op.queued_bytes)
    stats.queued_bytes.fetch_sub(std::exchange(op.queued_bytes, 0), std::memory_order_relaxed);
}

void answer(pending_op& op, const caf::error& err) {
  if (op.stream) {
    answer_stream_op(*op.stream, err);
  } else if (op.is_subscription) {
    if (err)
      op.sub_promise.deliver(err);
    else
      op.sub_promise.deliver(op.sub.remove ? int64_t{0} : op.sub.position);
  } else if (op.outcome) {
    if (err)
      deliver<append_outcome>(op.outcome, err);
    else
      deliver<append_outcome>(op.outcome, std::move(op.result));
  } else if (err) {
    deliver<append_result>(op.reply, err);
  } else if (op.result.status != append_status::applied) {
    // Only appends that carry checks are answered with anything but positions.
    deliver<append_result>(op.reply, make_error(errc::internal, "append not applied"));
  } else {
    deliver<append_result>(op.reply, op.result.positions);
  }
}

// Publishes a committed transaction of `events` events that left the head at `head`.
void record_commit(writer_state& st, int64_t head, uint64_t events) {
  st.stats->raise_head(head);
  st.stats->commits.fetch_add(1, std::memory_order_relaxed);
  st.stats->events_written.fetch_add(events, std::memory_order_relaxed);
  st.stats->group_events.observe(static_cast<double>(events));
  if (events > st.stats->max_group.load(std::memory_order_relaxed))
    st.stats->max_group.store(events, std::memory_order_relaxed);
}

void publish(writer_state& st, const std::vector<pending_op>& ops) {
  const int64_t head = st.store->head();
  uint64_t events = 0;
  std::vector<int64_t> changed;
  uint64_t stream_bytes = 0;
  uint64_t stream_writes = 0;
  for (const auto& op : ops) {
    if (is_append(op) && op.result.status == append_status::applied)
      events += op.append.events.size();
    if (op.stream) {
      changed_streams(*op.stream, changed, stream_bytes);
      stream_writes += op.stream->k == stream_op::kind::write;
    }
  }
  if (events > 0)
    changed.push_back(event_log_signal);
  st.stats->stream_writes.fetch_add(stream_writes, std::memory_order_relaxed);
  st.stats->stream_bytes_written.fetch_add(stream_bytes, std::memory_order_relaxed);
  record_commit(st, head, events);
  // After the head is published: a woken reader's Ebuse-Head is never behind what it read.
  if (!changed.empty() && st.opts.signal)
    st.opts.signal->notify(changed);
}

// Commits `ops` and answers each requester. If a group fails for a reason that may be
// specific to one of its writes, each write is retried alone so that one bad write
// does not fail the others; faults of the storage itself fail the whole group at once.
void commit_ops(writer_state& st, std::vector<pending_op>& ops) {
  auto start = std::chrono::steady_clock::now();
  auto err = apply_group(st, ops);
  st.stats->commit_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!err) {
    st.stats->clear_fault(tenant_stats::writer_fault);
    publish(st, ops);
    // Room in the queue first: a requester that has its answer finds it there.
    for (auto& op : ops) {
      release(*st.stats, op);
      answer(op, caf::none);
    }
    return;
  }
  st.stats->failed_commits.fetch_add(1, std::memory_order_relaxed);
  if (code_of(err) == errc::storage_unavailable)
    st.stats->mark_fault(tenant_stats::writer_fault);
  if (ops.size() > 1 && code_of(err) == errc::internal) {
    for (auto& op : ops) {
      std::vector<pending_op> single;
      single.push_back(std::move(op));
      commit_ops(st, single);
    }
    return;
  }
  for (auto& op : ops) {
    release(*st.stats, op);
    answer(op, err);
  }
}

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

void flush(writer_state& st) {
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  auto ops = std::move(st.pending);
  st.pending.clear();
  st.pending_events = 0;
  drop_abandoned(st, ops);
  if (ops.empty())
    return;
  commit_ops(st, ops);
  after_commit(st);
}

void enqueue(writer_self self, pending_op op) {
  auto& st = self->state;
  st.pending_events += is_append(op) ? op.append.events.size() : 1;
  st.pending.push_back(std::move(op));
  if (st.pending_events >= st.opts.max_group_events) {
    flush(st);
  } else if (!st.flush_scheduled) {
    // The flush message queues behind every write already in the mailbox, so all of
    // them join this group.
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

void enqueue_stream(writer_self self, std::unique_ptr<stream_op> sop) {
  if (!self->state.streams) {
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
  if (st.sweep_scheduled || !st.streams || !st.streams->may_expire())
    return;
  st.sweep_scheduled = true;
  self->delayed_send(self, st.opts.sweep_interval, sweep_atom::value);
}

// Imports one chunk after committing the group waiting before it, so that the head it
// expects is checked against every write that came first.
void import_chunk(writer_state& st, import_cmd& cmd) {
  flush(st);
  auto start = std::chrono::steady_clock::now();
  auto res = st.store->import_events(cmd.events, cmd.expected_head);
  st.stats->commit_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!res) {
    if (code_of(res.error()) != errc::tenant_not_empty
        && code_of(res.error()) != errc::invalid_event)
      st.stats->failed_commits.fetch_add(1, std::memory_order_relaxed);
    deliver<append_result>(cmd.reply, std::move(res.error()));
    return;
  }
  if (!cmd.events.empty())
    record_commit(st, res->last, cmd.events.size());
  deliver<append_result>(cmd.reply, *res);
  after_commit(st);
}

writer_actor::behavior_type writer_impl(writer_self self, std::shared_ptr<log_writer> store,
                                        std::shared_ptr<tenant_stats> stats,
                                        writer_options opts) {
  self->state.store = std::move(store);
  self->state.stats = std::move(stats);
  self->state.opts = opts;
  if (auto sw = self->state.store->open_streams(opts.streams))
    self->state.streams = std::move(*sw);
  schedule_sweep(self);
  self->send(self, key_sweep_atom::value);
  self->state.stats->raise_head(self->state.store->head());
  self->state.next_own_checkpoint = own_checkpoint_base(self->state);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    flush(st);
    if (auto err = st.store->checkpoint()) {
      st.stats->checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
      log::write(log::level::warn, "final checkpoint incomplete",
                 {{"db_path", log::str(st.store->describe())},
                  {"code", log::str(to_code(code_of(err)))},
                  {"detail", log::str(message_of(err))}});
    }
    self->quit(msg.reason);
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
      import_chunk(self->state, cmd);
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
      auto op = std::make_unique<stream_op>();
      op->k = stream_op::kind::sweep;
      enqueue_stream(self, std::move(op));
    },
    [self](key_sweep_atom) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      sweep_keys(self);
    },
    [self](flush_atom) {
      {
        handling_scope scope{self->state.stats->writer, self->mailbox().size()};
        flush(self->state);
      }
      schedule_sweep(self);
      spin_for_mail(self, self->state.opts.spin);
    },
  };
}

} // namespace writer

writer_actor spawn_tenant_writer(caf::actor_system& sys, std::shared_ptr<log_writer> store,
                                 std::shared_ptr<tenant_stats> stats, writer_options opts) {
  return sys.spawn<caf::detached>(writer::writer_impl, std::move(store), std::move(stats), opts);
}

} // namespace ebuse
