// The tenant writer's ordered queue of writes and the job that drains it on the storage pool.
#include <algorithm>
#include <utility>
#include <vector>

#include <caf/send.hpp>

#include "actors/stream_ops.hpp"
#include "actors/tenant_writer_state.hpp"

namespace ebuse {

writer_front::writer_front(std::shared_ptr<writer::write_line> line,
                           std::shared_ptr<worker_pool> pool, writer_actor actor)
    : line_(std::move(line)), pool_(std::move(pool)), actor_(std::move(actor)) {
}

writer_front::~writer_front() = default;

void writer_front::append(append_cmd cmd) {
  writer::queue_op(line_, *pool_, actor_, writer::make_append_op(cmd), true);
  // The writer's figures count the appends taken here as handled messages (once
  // queued, as the actor counts a message once handled); its mailbox figures stay the
  // actor's.
  line_->stats->writer.handled.fetch_add(1, std::memory_order_relaxed);
}

namespace writer {

namespace {

// Drops the appends whose waiter has given up before they are written: nobody would
// learn their positions, and a client retrying after its timeout must not find them
// written twice.
void drop_abandoned(tenant_stats& stats, std::vector<pending_op>& ops) {
  auto gone = [&stats](pending_op& op) {
    if (!is_append(op))
      return false;
    if (op.reply ? !op.reply->abandoned() : !op.outcome || !op.outcome->abandoned())
      return false;
    release(stats, op);
    stats.dropped_abandoned.fetch_add(1, std::memory_order_relaxed);
    return true;
  };
  ops.erase(std::remove_if(ops.begin(), ops.end(), gone), ops.end());
}

// Runs one step on the storage side; what the actor must act on goes to `done`
// (false: nothing for the actor).
bool run_step(writer_core& c, step& s, finished_step& done) {
  done.k = s.k;
  switch (s.k) {
    case step::kind::group: {
      drop_abandoned(*c.stats, s.ops);
      if (s.ops.empty())
        return false;
      c.batch = std::move(s.ops);
      commit_batch(c);
      bool tell = false;
      for (auto& op : c.batch) {
        // Only subscription saves (their promises) and stream writes (which streams
        // can expire) concern the actor; a group of appends alone is finished here.
        tell = tell || op.stream != nullptr;
        if (op.is_subscription)
          done.subs.push_back(std::move(op));
      }
      c.batch.clear();
      done.may_expire = c.may_expire;
      return tell || !done.subs.empty();
    }
    case step::kind::import:
      import_chunk(c, s.import);
      return false;
    case step::kind::key_sweep:
      sweep_keys(c);
      done.next_key_sweep = c.next_key_sweep;
      return true;
    case step::kind::close:
      close_store(c);
      return true;
  }
  return false;
}

// Runs the line's next step; false when the line was empty (it is idle now: the next
// write starts a job).
bool run_next(const std::shared_ptr<write_line>& line, const writer_actor& me) {
  step s;
  {
    std::lock_guard<std::mutex> guard{line->mtx};
    if (line->steps.empty()) {
      line->busy = false;
      return false;
    }
    s = std::move(line->steps.front());
    line->steps.pop_front();
  }
  finished_step done;
  if (run_step(*line->core, s, done)) {
    {
      std::lock_guard<std::mutex> guard{line->mtx};
      line->finished.push_back(std::move(done));
    }
    caf::anon_send(me, job_done_atom::value);
  }
  return true;
}

// Marks the line idle when nothing is queued on it (true).
bool idle_if_empty(write_line& line) {
  std::lock_guard<std::mutex> guard{line.mtx};
  if (!line.steps.empty())
    return false;
  line.busy = false;
  return true;
}

// The job: the line's steps in order until it is empty. While other jobs wait for a
// thread, the rest of this tenant's queue goes behind them instead of holding the
// thread. The job holds the line, never the pool (a job dropping the pool's last
// holder would join its own thread): the pool outlives every job it runs.
void drain(const std::shared_ptr<write_line>& line, worker_pool* pool,
           const writer_actor& me) {
  while (run_next(line, me))
    if (pool->queued() > 0 && pool->submit([line, pool, me] { drain(line, pool, me); }))
      return;
}

void start_job(const std::shared_ptr<write_line>& line, worker_pool* pool,
               const writer_actor& me) {
  auto job = [line, pool, me] { drain(line, pool, me); };
  if (!pool->submit(job))
    job(); // the pool has stopped (process exit): the work still runs, here
}

// A write from a thread that may block (an HTTP worker) on an idle line: when the
// pool is idle too, that thread commits the first group itself, as one of the pool's
// jobs, instead of waking a sleeping storage worker and then waiting for its answer
// (a lone client's append saves two thread wake-ups). Whatever queued behind that
// group meanwhile goes on as an ordinary job, so the caller commits one group only.
void start_here_or_job(const std::shared_ptr<write_line>& line, worker_pool* pool,
                       const writer_actor& me) {
  bool more = false;
  auto first = [&] { more = run_next(line, me) && !idle_if_empty(*line); };
  if (!pool->run_here_if_idle(first) || more)
    start_job(line, pool, me);
}

} // namespace

pending_op make_append_op(append_cmd& cmd) {
  pending_op op;
  op.append.events = std::move(cmd.events);
  op.append.expected_head = cmd.expected_head;
  op.append.idempotency = std::move(cmd.idempotency);
  op.reply = std::move(cmd.reply);
  op.outcome = std::move(cmd.outcome);
  op.queued_events = cmd.queued_events;
  op.queued_bytes = cmd.queued_bytes;
  return op;
}

void queue_op(const std::shared_ptr<write_line>& line, worker_pool& pool,
              const writer_actor& me, pending_op op, bool may_run_here) {
  const std::size_t n = is_append(op) ? op.append.events.size() : 1;
  {
    std::unique_lock<std::mutex> lock{line->mtx};
    if (line->closing) {
      lock.unlock();
      refuse(*line->stats, op);
      return;
    }
    auto& steps = line->steps;
    if (steps.empty() || steps.back().k != step::kind::group
        || steps.back().events >= line->max_group_events)
      steps.emplace_back();
    steps.back().events += n;
    steps.back().ops.push_back(std::move(op));
    if (std::exchange(line->busy, true))
      return; // the job in flight takes it: everything queued meanwhile joins its group
  }
  if (may_run_here)
    start_here_or_job(line, &pool, me);
  else
    start_job(line, &pool, me);
}

bool queue_step(const std::shared_ptr<write_line>& line, worker_pool& pool,
                const writer_actor& me, step s) {
  {
    std::lock_guard<std::mutex> guard{line->mtx};
    if (line->closing)
      return false;
    line->closing = s.k == step::kind::close;
    line->steps.push_back(std::move(s));
    if (std::exchange(line->busy, true))
      return true;
  }
  start_job(line, &pool, me);
  return true;
}

void refuse(tenant_stats& stats, pending_op& op) {
  auto err = make_error(errc::storage_unavailable, "the tenant is stopping");
  release(stats, op);
  if (op.stream)
    answer_stream_op(*op.stream, err);
  else if (op.is_subscription)
    op.sub_promise.deliver(err);
  else if (op.outcome)
    deliver<append_outcome>(op.outcome, err);
  else if (op.reply)
    deliver<append_result>(op.reply, err);
}

} // namespace writer

} // namespace ebuse
