// Group commit on PostgreSQL: the writes waiting in the mailbox become one write_group.
#include "actors/pg_tenant_writer.hpp"

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/spin.hpp"
#include "actors/stream_ops.hpp"
#include "actors/stream_signal.hpp"
#include "actors/tenant_stats.hpp"
#include "core/errc.hpp"
#include "storage/pg_store.hpp"

namespace ebuse {

bool raise_head(tenant_stats& stats, int64_t head) noexcept {
  auto cur = stats.head.load(std::memory_order_acquire);
  while (cur < head)
    if (stats.head.compare_exchange_weak(cur, head, std::memory_order_acq_rel))
      return true;
  return false;
}

namespace {

// One write waiting for the next group: an append or a subscription save.
struct pg_pending {
  std::vector<new_event> events;
  reply_to<append_result> reply;
  bool is_subscription = false;
  subscription_write sub;
  caf::typed_response_promise<int64_t> sub_promise;
  uint64_t queued_events = 0;
  uint64_t queued_bytes = 0;
};

struct pg_writer_state {
  std::shared_ptr<pg_writer> store;
  std::shared_ptr<tenant_stats> stats;
  writer_options opts;
  std::vector<pg_pending> pending;
  std::size_t pending_events = 0;
  bool flush_scheduled = false;

  static inline const char* name = "pg_tenant_writer";
};

using pg_writer_self = writer_actor::stateful_pointer<pg_writer_state>;

caf::error streams_unsupported() {
  return make_error(errc::not_supported,
                    "Durable Streams are not supported on PostgreSQL storage");
}

void release(tenant_stats& stats, pg_pending& op) {
  stats.queued_events.fetch_sub(std::exchange(op.queued_events, 0), std::memory_order_relaxed);
  stats.queued_bytes.fetch_sub(std::exchange(op.queued_bytes, 0), std::memory_order_relaxed);
}

// Publishes a group that committed and answers each requester.
void answer_all(pg_writer_state& st, std::vector<pg_pending>& ops, const group_outcome& out) {
  uint64_t events = 0;
  std::size_t a = 0;
  for (auto& op : ops) {
    release(*st.stats, op);
    if (op.is_subscription) {
      op.sub_promise.deliver(op.sub.position);
      continue;
    }
    const auto& pos = out.appends[a++].positions;
    events += static_cast<uint64_t>(pos.last - pos.first + 1);
    deliver<append_result>(op.reply, pos);
  }
  auto& stats = *st.stats;
  raise_head(stats, out.head);
  stats.commits.fetch_add(1, std::memory_order_relaxed);
  stats.events_written.fetch_add(events, std::memory_order_relaxed);
  stats.group_events.observe(static_cast<double>(events));
  if (events > stats.max_group.load(std::memory_order_relaxed))
    stats.max_group.store(events, std::memory_order_relaxed);
  if (events > 0 && st.opts.signal)
    st.opts.signal->notify({event_log_signal});
}

void fail_all(pg_writer_state& st, std::vector<pg_pending>& ops, const caf::error& err) {
  st.stats->failed_commits.fetch_add(1, std::memory_order_relaxed);
  if (code_of(err) == errc::storage_unavailable)
    st.stats->mark_fault(tenant_stats::writer_fault);
  for (auto& op : ops) {
    release(*st.stats, op);
    if (op.is_subscription)
      op.sub_promise.deliver(err);
    else
      deliver<append_result>(op.reply, err);
  }
}

void flush(pg_writer_state& st) {
  st.flush_scheduled = false;
  auto ops = std::move(st.pending);
  st.pending.clear();
  st.pending_events = 0;
  // An append whose waiter gave up is dropped unwritten, as on SQLite.
  auto gone = [&st](pg_pending& op) {
    if (op.is_subscription || !op.reply || !op.reply->abandoned())
      return false;
    release(*st.stats, op);
    st.stats->dropped_abandoned.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  ops.erase(std::remove_if(ops.begin(), ops.end(), gone), ops.end());
  if (ops.empty())
    return;
  if (st.opts.before_commit)
    st.opts.before_commit(ops.size());
  write_group group;
  for (auto& op : ops) {
    if (op.is_subscription) {
      group.subscriptions.push_back(op.sub);
      continue;
    }
    append_request req;
    req.events = std::move(op.events);
    group.appends.push_back(std::move(req));
  }
  auto start = std::chrono::steady_clock::now();
  auto out = st.store->apply(group);
  st.stats->commit_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!out)
    return fail_all(st, ops, out.error());
  st.stats->clear_fault(tenant_stats::writer_fault);
  answer_all(st, ops, *out);
}

void enqueue(pg_writer_self self, pg_pending op) {
  auto& st = self->state;
  st.pending_events += op.is_subscription ? 1 : op.events.size();
  st.pending.push_back(std::move(op));
  if (st.pending_events >= st.opts.max_group_events) {
    flush(st);
  } else if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

void refuse_stream(stream_write_cmd& cmd) {
  stream_op op;
  op.cmd = std::move(cmd);
  answer_stream_op(op, streams_unsupported());
}

writer_actor::behavior_type pg_writer_impl(pg_writer_self self, std::shared_ptr<pg_writer> store,
                                           std::shared_ptr<tenant_stats> stats,
                                           writer_options opts) {
  auto& st = self->state;
  st.store = std::move(store);
  st.stats = std::move(stats);
  st.opts = std::move(opts);
  raise_head(*st.stats, st.store->head());
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    flush(self->state);
    self->quit(msg.reason);
  });
  return {
    [self](append_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      pg_pending op;
      op.events = std::move(cmd.events);
      op.reply = std::move(cmd.reply);
      op.queued_events = cmd.queued_events;
      op.queued_bytes = cmd.queued_bytes;
      enqueue(self, std::move(op));
    },
    [](import_cmd& cmd) {
      deliver<append_result>(cmd.reply,
                             make_error(errc::not_supported,
                                        "import is not supported on PostgreSQL storage; "
                                        "use ebuse migrate"));
    },
    [self](save_atom, std::string& id, int64_t position) -> caf::typed_response_promise<int64_t> {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      pg_pending op;
      op.is_subscription = true;
      op.sub.id = std::move(id);
      op.sub.position = position;
      op.sub_promise = self->make_response_promise<int64_t>();
      auto rp = op.sub_promise;
      enqueue(self, std::move(op));
      return rp;
    },
    [](stream_write_cmd& cmd) { refuse_stream(cmd); },
    [](stream_touch_cmd&) {},
    [](sweep_atom) {},
    [](key_sweep_atom) {},
    [self](flush_atom) {
      {
        handling_scope scope{self->state.stats->writer, self->mailbox().size()};
        flush(self->state);
      }
      spin_for_mail(self, self->state.opts.spin);
    },
  };
}

} // namespace

writer_actor spawn_pg_tenant_writer(caf::actor_system& sys, std::unique_ptr<pg_writer> store,
                                    std::shared_ptr<tenant_stats> stats, writer_options opts) {
  std::shared_ptr<pg_writer> shared{std::move(store)};
  return sys.spawn<caf::detached>(pg_writer_impl, std::move(shared), std::move(stats),
                                  std::move(opts));
}

} // namespace ebuse
