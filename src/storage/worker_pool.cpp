// The worker pool: threads take jobs from one queue in order.
#include "storage/worker_pool.hpp"

#include <algorithm>
#include <utility>

#include <sched.h>

namespace ebuse {

worker_pool::worker_pool(std::size_t threads, std::chrono::microseconds linger)
    : linger_(linger), cap_(std::max<std::size_t>(threads, 1)) {
  // On one core a thread kept awake would only take it from the caller.
  keep_awake_ = linger_.count() > 0 && std::thread::hardware_concurrency() > 1;
  threads = cap_;
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

worker_pool::~worker_pool() {
  stop();
}

bool worker_pool::submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return false;
    jobs_.push_back(std::move(job));
    waiting_.store(jobs_.size(), std::memory_order_relaxed);
  }
  cv_.notify_one();
  return true;
}

bool worker_pool::enter_here() {
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_ || !jobs_.empty() || busy_ >= cap_)
      return false;
    ++busy_;
    running_here_.fetch_add(1, std::memory_order_relaxed);
    // One thread lingers meanwhile (unless one already does): a core that sleeps while
    // the caller runs a lone client's job halts, and waking a halted core of a virtual
    // machine for the answer costs more than the client's whole round trip.
    wake = keep_awake_ && lingering_ == 0 && !linger_asked_;
    if (wake)
      linger_asked_ = true;
  }
  if (wake)
    cv_.notify_one();
  return true;
}

void worker_pool::leave_here() {
  bool waiting = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    --busy_;
    running_here_.fetch_sub(1, std::memory_order_relaxed);
    ++done_;
    waiting = !jobs_.empty();
  }
  if (waiting)
    cv_.notify_one(); // a job queued while this one held the last place
}

bool worker_pool::may_start() const {
  return !jobs_.empty() && busy_ < cap_;
}

void worker_pool::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_all();
  std::call_once(joined_, [this] {
    for (auto& t : threads_)
      t.join();
  });
}

std::size_t worker_pool::queued() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return jobs_.size();
}

std::size_t worker_pool::lingering() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lingering_;
}

std::size_t worker_pool::busy() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return busy_;
}

uint64_t worker_pool::done() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return done_;
}

void worker_pool::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    cv_.wait(lock, [this] {
      return may_start() || linger_asked_ || (stopping_ && jobs_.empty());
    });
    if (!may_start() && linger_asked_ && !stopping_) {
      linger_asked_ = false;
      linger(lock);
      continue;
    }
    linger_asked_ = false;
    // Stopping drains the queue first: a queued job may hold a promise someone waits on.
    // A job still queued behind a caller's (woken to linger, now stopping) is waited for.
    if (stopping_ && jobs_.empty())
      return;
    if (!may_start())
      continue;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    waiting_.store(jobs_.size(), std::memory_order_relaxed);
    ++busy_;
    lock.unlock();
    job();
    job = nullptr; // its captures go on this thread, before the next job
    lock.lock();
    --busy_;
    ++done_;
    if (linger_.count() > 0 && jobs_.empty() && !stopping_)
      linger(lock);
  }
}

// Polls the queue, yielding the core, until `linger_` has passed with no caller's job
// running (the caller's answer still goes out after its job), at most 16 times
// `linger_` in all.
void worker_pool::linger(std::unique_lock<std::mutex>& lock) {
  // Lingering is not busy: busy() counts only threads running a job.
  ++lingering_;
  lock.unlock();
  auto now = std::chrono::steady_clock::now();
  auto until = now + linger_;
  auto cap = now + 16 * linger_;
  while (waiting_.load(std::memory_order_relaxed) == 0) {
    now = std::chrono::steady_clock::now();
    if (running_here_.load(std::memory_order_relaxed) > 0 && now < cap)
      until = now + linger_;
    else if (now >= until)
      break;
    sched_yield();
  }
  lock.lock();
  --lingering_;
}

} // namespace ebuse
