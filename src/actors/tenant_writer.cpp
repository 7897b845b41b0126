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
#include "actors/tenant_stats.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

/// One write waiting for the next commit: an append or a subscription save.
struct pending_op {
  std::vector<new_event> events;
  reply_to<append_result> reply;
  append_result result;
  bool is_subscription = false;
  std::string sub_id;
  int64_t sub_position = 0;
  caf::typed_response_promise<int64_t> sub_promise;
};

struct writer_state {
  std::shared_ptr<store_writer> store;
  std::shared_ptr<tenant_stats> stats;
  writer_options opts;
  std::vector<pending_op> pending;
  std::size_t pending_events = 0;
  bool flush_scheduled = false;
  std::vector<const new_event*> rows; ///< the group's events, reused across groups
  bool checkpoint_requested = false; ///< a background pass was asked for this WAL
  int64_t next_own_checkpoint = 0;   ///< WAL size at which the writer checkpoints itself

  static inline const char* name = "tenant_writer";
};

using writer_self = writer_actor::stateful_pointer<writer_state>;

// Applies `ops` in one transaction; positions land in each op's result. The events of
// every append in the group are inserted together, many rows per statement; each
// append's positions are its consecutive share of them.
caf::error write_group(store_writer& store, std::vector<pending_op>& ops,
                       std::vector<const new_event*>& rows) {
  if (auto err = store.begin())
    return err;
  rows.clear();
  for (auto& op : ops) {
    if (op.is_subscription) {
      if (auto err = store.save_subscription(op.sub_id, op.sub_position)) {
        store.rollback();
        return err;
      }
      continue;
    }
    for (const auto& ev : op.events)
      rows.push_back(&ev);
  }
  if (!rows.empty()) {
    auto res = store.insert_rows(rows);
    if (!res) {
      store.rollback();
      return std::move(res.error());
    }
    // Offsets from the group's first position: the last one may be INT64_MAX, so
    // nothing past it is ever computed.
    int64_t done = 0;
    for (auto& op : ops) {
      if (op.is_subscription || op.events.empty())
        continue;
      op.result.first = res->first + done;
      done += static_cast<int64_t>(op.events.size());
      op.result.last = res->first + (done - 1);
    }
  }
  return store.commit();
}

void answer(pending_op& op, const caf::error& err) {
  if (op.is_subscription) {
    if (err)
      op.sub_promise.deliver(err);
    else
      op.sub_promise.deliver(op.sub_position);
  } else if (err) {
    deliver<append_result>(op.reply, err);
  } else {
    deliver<append_result>(op.reply, op.result);
  }
}

void publish(writer_state& st, const std::vector<pending_op>& ops) {
  int64_t head = st.store->head();
  uint64_t events = 0;
  for (const auto& op : ops) {
    head = std::max(head, op.result.last);
    events += op.events.size();
  }
  st.store->set_head(head);
  st.stats->head.store(head, std::memory_order_release);
  st.stats->commits.fetch_add(1, std::memory_order_relaxed);
  st.stats->events_written.fetch_add(events, std::memory_order_relaxed);
  st.stats->group_events.observe(static_cast<double>(events));
  if (events > st.stats->max_group.load(std::memory_order_relaxed))
    st.stats->max_group.store(events, std::memory_order_relaxed);
}

// Commits `ops` and answers each requester. If a group fails for a reason that may be
// specific to one of its writes, each write is retried alone so that one bad write
// does not fail the others; faults of the storage itself fail the whole group at once.
void commit_ops(writer_state& st, std::vector<pending_op>& ops) {
  auto start = std::chrono::steady_clock::now();
  auto err = write_group(*st.store, ops, st.rows);
  st.stats->commit_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!err) {
    publish(st, ops);
    for (auto& op : ops)
      answer(op, caf::none);
    return;
  }
  st.stats->failed_commits.fetch_add(1, std::memory_order_relaxed);
  if (ops.size() > 1 && code_of(err) == errc::internal) {
    for (auto& op : ops) {
      std::vector<pending_op> single;
      single.push_back(std::move(op));
      commit_ops(st, single);
    }
    return;
  }
  for (auto& op : ops)
    answer(op, err);
}

// How far (in thresholds) the WAL may grow while a background pass is running before
// the writer checkpoints itself: a reader holding old frames or a slow disk must not
// let it grow without bound.
constexpr int own_checkpoint_factor = 4;

// The WAL size at which the writer checkpoints itself when the WAL is back to small.
// In 64 bits: WAL_AUTOCHECKPOINT may be up to 10^9 pages.
int64_t own_checkpoint_base(const writer_state& st) {
  int64_t threshold = st.store->wal_threshold();
  return st.opts.checkpointer ? own_checkpoint_factor * threshold : threshold;
}

void own_checkpoint(writer_state& st) {
  if (st.store->checkpoint_passive())
    st.stats->checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
  else
    st.stats->writer_checkpoints.fetch_add(1, std::memory_order_relaxed);
}

// After a commit was answered. A background pass copies the bulk of the WAL while
// commits go on; frames appended during it remain, so the WAL would never restart
// under steady load. The writer copies that small rest itself, after which the next
// transaction starts the WAL from the beginning.
void after_commit(writer_state& st) {
  const int frames = st.store->wal_frames();
  const int threshold = st.store->wal_threshold();
  st.stats->wal_frames.store(frames, std::memory_order_relaxed);
  if (threshold <= 0)
    return;
  if (frames < threshold) {
    st.next_own_checkpoint = own_checkpoint_base(st);
    return;
  }
  if (st.checkpoint_requested) {
    if (!st.stats->checkpoint_pending.load(std::memory_order_acquire)) {
      st.checkpoint_requested = false;
      own_checkpoint(st);
    } else if (frames >= st.next_own_checkpoint) {
      own_checkpoint(st);
      st.next_own_checkpoint = int64_t{frames} + threshold;
    }
    return;
  }
  if (st.opts.checkpointer) {
    st.checkpoint_requested = true;
    caf::anon_send(st.opts.checkpointer,
                   checkpoint_cmd{st.store->path(),
                                  std::make_shared<checkpoint_ticket>(st.stats)});
  } else if (frames >= st.next_own_checkpoint) {
    own_checkpoint(st);
    st.next_own_checkpoint = int64_t{frames} + threshold;
  }
}

void flush(writer_state& st) {
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  auto ops = std::move(st.pending);
  st.pending.clear();
  st.pending_events = 0;
  commit_ops(st, ops);
  after_commit(st);
}

void enqueue(writer_self self, pending_op op) {
  auto& st = self->state;
  st.pending_events += op.is_subscription ? 1 : op.events.size();
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

writer_actor::behavior_type writer_impl(writer_self self, std::shared_ptr<store_writer> store,
                                        std::shared_ptr<tenant_stats> stats,
                                        writer_options opts) {
  self->state.store = std::move(store);
  self->state.stats = std::move(stats);
  self->state.opts = opts;
  self->state.stats->head.store(self->state.store->head());
  self->state.next_own_checkpoint = own_checkpoint_base(self->state);
  self->set_exit_handler([self](const caf::exit_msg& msg) {
    auto& st = self->state;
    flush(st);
    if (auto err = st.store->checkpoint()) {
      st.stats->checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
      log::write(log::level::warn, "final checkpoint incomplete",
                 {{"db_path", log::str(st.store->path())},
                  {"code", log::str(to_code(code_of(err)))},
                  {"detail", log::str(message_of(err))}});
    }
    self->quit(msg.reason);
  });
  return {
    [self](append_cmd& cmd) {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      pending_op op;
      op.events = std::move(cmd.events);
      op.reply = std::move(cmd.reply);
      enqueue(self, std::move(op));
    },
    [self](save_atom, std::string& id,
           int64_t position) -> caf::typed_response_promise<int64_t> {
      handling_scope scope{self->state.stats->writer, self->mailbox().size()};
      pending_op op;
      op.is_subscription = true;
      op.sub_id = std::move(id);
      op.sub_position = position;
      op.sub_promise = self->make_response_promise<int64_t>();
      auto rp = op.sub_promise;
      enqueue(self, std::move(op));
      return rp;
    },
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

writer_actor spawn_tenant_writer(caf::actor_system& sys, std::shared_ptr<store_writer> store,
                                 std::shared_ptr<tenant_stats> stats, writer_options opts) {
  return sys.spawn<caf::detached>(writer_impl, std::move(store), std::move(stats), opts);
}

} // namespace ebuse
