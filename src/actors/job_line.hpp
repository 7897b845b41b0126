// A cooperative actor's jobs on a shared pool: a bounded number in flight, the rest in order.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "actors/type_ids.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

/// The blocking work of one cooperative actor, run on a pool shared by many actors: at
/// most `max` jobs of this actor run at once (the rest wait here, in order), and after
/// each job the actor gets `job_done_atom` from the pool's thread; its handler calls
/// finished(). Without an actor to notify, each job sends its own end message. Owned and
/// used by the actor only. It holds the actor weakly (it lives in the actor's state); a
/// job in flight holds it strongly, so its end message always finds the actor.
class job_line {
public:
  using job = std::function<void()>;

  job_line() = default;

  /// Jobs go to `pool`, at most `max` (at least one) at once; `notify` (may be null)
  /// gets `job_done_atom` after each.
  job_line(std::shared_ptr<worker_pool> pool, std::size_t max, caf::actor_addr notify)
    : pool_(std::move(pool)), max_(max == 0 ? 1 : max), notify_(std::move(notify)) {
  }

  /// Runs `work` on the pool now, or once the jobs before it leave room.
  void submit(job work) {
    if (running_ < max_)
      start(std::move(work));
    else
      waiting_.push_back(std::move(work));
  }

  /// One job has ended (its done message arrived): starts the next one waiting.
  void finished() {
    --running_;
    if (waiting_.empty())
      return;
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    start(std::move(next));
  }

  /// Forgets the jobs not yet begun (their captures, reply channels among them, go now).
  void drop_waiting() {
    waiting_.clear();
  }

  /// Jobs running or queued on the pool.
  std::size_t running() const noexcept {
    return running_;
  }

  /// Neither running nor waiting jobs.
  bool idle() const noexcept {
    return running_ == 0 && waiting_.empty();
  }

private:
  void start(job work) {
    ++running_;
    auto me = caf::actor_cast<caf::actor>(notify_);
    auto wrapped = [work = std::move(work), me]() {
      work();
      if (me)
        caf::anon_send(me, job_done_atom::value);
    };
    if (!pool_->submit(wrapped))
      wrapped(); // the pool has stopped (process exit): the job still runs, here
  }

  std::shared_ptr<worker_pool> pool_;
  std::size_t max_ = 1;
  caf::actor_addr notify_;
  std::size_t running_ = 0;
  std::deque<job> waiting_;
};

/// Sets the exit handler of a reader-like actor whose state has `jobs` (a job_line),
/// `closing` and `exit_reason`: the first exit message drops the jobs not yet begun
/// (their waiters learn it from their broken reply), keeps its reason, and calls
/// `then(self)`, which quits once the jobs in flight have ended.
template <class Self, class Then>
void drop_jobs_on_exit(Self self, Then then) {
  self->set_exit_handler([self, then](const caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.closing)
      return;
    st.closing = true;
    st.exit_reason = msg.reason;
    st.jobs.drop_waiting();
    then(self);
  });
}

} // namespace ebuse
