// A fixed set of threads over one shared FIFO of jobs, for blocking storage work.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ebuse {

/// N threads serving one queue: a long job holds up only the thread that runs it (a
/// round-robin pool would queue jobs behind it). Jobs must not throw.
class worker_pool {
public:
  /// Starts `threads` threads (at least one). A thread that finds the queue empty after
  /// a job polls it for `linger` (yielding its core) before it sleeps: the next job of a
  /// lone client then starts without the wake-up of a sleeping thread. With `linger` and
  /// more than one core, while a caller runs a job itself (run_here_if_idle) one thread
  /// lingers too, until `linger` after the caller's job: the machine's other core stays
  /// awake for the caller's answer.
  explicit worker_pool(std::size_t threads,
                       std::chrono::microseconds linger = std::chrono::microseconds(0));

  /// Stops (runs what is queued, then joins).
  ~worker_pool();

  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Queues `job`; false (and the job is dropped unrun) once stop() has begun.
  bool submit(std::function<void()> job);

  /// Runs `job` on the calling thread, as one of the pool's jobs, when the pool is idle
  /// enough that a submitted job would only wait for a sleeping thread to wake: nothing
  /// queued and fewer jobs running than the pool has threads. The job takes a place
  /// under the same bound (the pool's threads start no job beyond it meanwhile), so at
  /// most `threads` jobs run at once wherever they run. False (the job is not run) when
  /// the pool is not idle or has stopped. For callers that may block (not actors).
  template <typename Job>
  bool run_here_if_idle(Job&& job) {
    if (!enter_here())
      return false;
    // The place is given back however the job ends.
    struct place {
      worker_pool* pool;
      ~place() {
        pool->leave_here();
      }
    } held{this};
    job();
    return true;
  }

  /// Runs every job queued so far, then joins the threads. Idempotent; not from a job.
  void stop();

  /// The pool's threads: jobs that may run at once.
  std::size_t threads() const noexcept {
    return cap_;
  }

  /// Jobs waiting for a thread.
  std::size_t queued() const;

  /// Jobs running now.
  std::size_t busy() const;

  /// Threads polling the queue for a next job (lingering) now.
  std::size_t lingering() const;

  /// Jobs finished since the start.
  uint64_t done() const;

private:
  void run();
  bool may_start() const; ///< a queued job may start now; under mtx_
  bool enter_here();       ///< takes a place for the caller's job if the pool is idle
  void leave_here();       ///< gives that place back
  void linger(std::unique_lock<std::mutex>& lock); ///< called and returns with `lock` held

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_; ///< guarded by mtx_
  std::size_t busy_ = 0;                   ///< guarded by mtx_
  uint64_t done_ = 0;                      ///< guarded by mtx_
  bool stopping_ = false;                  ///< guarded by mtx_
  std::atomic<std::size_t> waiting_{0};    ///< jobs_.size(), readable without the lock
  std::atomic<std::size_t> running_here_{0}; ///< callers' jobs running now
  std::size_t lingering_ = 0;                ///< threads in linger(); guarded by mtx_
  bool linger_asked_ = false; ///< a sleeping thread is to linger; guarded by mtx_
  bool keep_awake_ = false;   ///< a caller's job keeps a thread lingering
  std::chrono::microseconds linger_;
  std::size_t cap_;                        ///< jobs running at once, at most
  std::vector<std::thread> threads_;
  std::once_flag joined_;
};

} // namespace ebuse
