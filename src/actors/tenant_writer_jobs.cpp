// The tenant writer's storage jobs: a group's transaction, an import chunk, the close.
#include <chrono>
#include <utility>
#include <vector>

#include "actors/stream_ops.hpp"
#include "actors/stream_signal.hpp"
#include "actors/tenant_writer_state.hpp"
#include "core/timestamp.hpp"
#include "obs/logger.hpp"

namespace ebuse::writer {

namespace {

// Applies `ops` in one transaction (log_writer::apply); each append's outcome lands in
// its op. The stream operations run inside the same transaction, in queue order,
// each deciding on the state the ones before it left.
caf::error apply_group(writer_core& c, std::vector<pending_op>& ops) {
  if (c.opts.before_commit)
    c.opts.before_commit(ops.size());
  auto& g = c.group;
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
    inside = [&c, &ops, now]() -> caf::error {
      for (auto& op : ops) {
        if (!op.stream)
          continue;
        if (!c.streams)
          return make_error(errc::storage_unavailable, "streams unavailable");
        if (auto err = apply_stream_op(*c.streams, *op.stream, now))
          return err;
      }
      return caf::none;
    };
  auto res = c.store->apply(g, inside);
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

// Answers the requester of `op`; a subscription save keeps its outcome for the actor,
// which owns its response promise.
void answer(pending_op& op, const caf::error& err) {
  if (op.stream) {
    answer_stream_op(*op.stream, err);
  } else if (op.is_subscription) {
    op.sub_error = err;
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
void record_commit(writer_core& c, int64_t head, uint64_t events) {
  c.stats->raise_head(head);
  c.stats->commits.fetch_add(1, std::memory_order_relaxed);
  c.stats->events_written.fetch_add(events, std::memory_order_relaxed);
  c.stats->group_events.observe(static_cast<double>(events));
  if (events > c.stats->max_group.load(std::memory_order_relaxed))
    c.stats->max_group.store(events, std::memory_order_relaxed);
}

void publish(writer_core& c, const std::vector<pending_op>& ops) {
  const int64_t head = c.store->head();
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
  c.stats->stream_writes.fetch_add(stream_writes, std::memory_order_relaxed);
  c.stats->stream_bytes_written.fetch_add(stream_bytes, std::memory_order_relaxed);
  record_commit(c, head, events);
  // After the head is published: a woken reader's Ebuse-Head is never behind what it read.
  if (!changed.empty() && c.opts.signal)
    c.opts.signal->notify(changed);
}

// Commits `ops` and answers each requester. If a group fails for a reason that may be
// specific to one of its writes, each write is retried alone so that one bad write
// does not fail the others; faults of the storage itself fail the whole group at once.
void commit_ops(writer_core& c, std::vector<pending_op>& ops) {
  auto start = std::chrono::steady_clock::now();
  auto err = apply_group(c, ops);
  c.stats->commit_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!err) {
    c.stats->clear_fault(tenant_stats::writer_fault);
    publish(c, ops);
    // Room in the queue first: a requester that has its answer finds it there.
    for (auto& op : ops) {
      release(*c.stats, op);
      answer(op, caf::none);
    }
    return;
  }
  c.stats->failed_commits.fetch_add(1, std::memory_order_relaxed);
  if (code_of(err) == errc::storage_unavailable)
    c.stats->mark_fault(tenant_stats::writer_fault);
  if (ops.size() > 1 && code_of(err) == errc::internal) {
    for (auto& op : ops) {
      std::vector<pending_op> single;
      single.push_back(std::move(op));
      commit_ops(c, single);
      op = std::move(single.front());
    }
    return;
  }
  for (auto& op : ops) {
    release(*c.stats, op);
    answer(op, err);
  }
}

} // namespace

void release(tenant_stats& stats, pending_op& op) {
  if (op.queued_events)
    stats.queued_events.fetch_sub(std::exchange(op.queued_events, 0), std::memory_order_relaxed);
  if (op.queued_bytes)
    stats.queued_bytes.fetch_sub(std::exchange(op.queued_bytes, 0), std::memory_order_relaxed);
}

void commit_batch(writer_core& c) {
  commit_ops(c, c.batch);
  after_commit(c);
  c.may_expire = c.streams && c.streams->may_expire();
}

void import_chunk(writer_core& c, import_cmd& cmd) {
  auto start = std::chrono::steady_clock::now();
  auto res = c.store->import_events(cmd.events, cmd.expected_head);
  c.stats->commit_latency.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!res) {
    if (code_of(res.error()) != errc::tenant_not_empty
        && code_of(res.error()) != errc::invalid_event)
      c.stats->failed_commits.fetch_add(1, std::memory_order_relaxed);
    deliver<append_result>(cmd.reply, std::move(res.error()));
    return;
  }
  if (!cmd.events.empty())
    record_commit(c, res->last, cmd.events.size());
  deliver<append_result>(cmd.reply, *res);
  after_commit(c);
}

void close_store(writer_core& c) {
  if (!c.store)
    return;
  if (auto err = c.store->checkpoint()) {
    c.stats->checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
    log::write(log::level::warn, "final checkpoint incomplete",
               {{"db_path", log::str(c.store->describe())},
                {"code", log::str(to_code(code_of(err)))},
                {"detail", log::str(message_of(err))}});
  }
  // The statements go before the connection they were prepared on.
  c.streams.reset();
  c.store.reset();
}

} // namespace ebuse::writer
