// Holding a tenant writer before its group transactions, to form groups deterministically.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace ebuse::test {

/// Holds a writer at the start of its group transactions (writer_options::before_commit)
/// until opened: what a test sends meanwhile waits in the writer's mailbox, and forms
/// the next group. Shared with the hook, so it outlives the writer.
class commit_gate {
public:
  static std::shared_ptr<commit_gate> make() {
    return std::make_shared<commit_gate>();
  }

  /// The hook for writer_options::before_commit.
  static std::function<void(std::size_t)> hook(std::shared_ptr<commit_gate> gate) {
    return [gate](std::size_t ops) { gate->arrive(ops); };
  }

  /// Waits (bounded) until `n` group transactions have reached the gate.
  bool wait_arrived(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, limit, [&] { return sizes_.size() >= n; });
  }

  /// Lets every held and later transaction pass.
  void open() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }

  /// Operations in each group that reached the gate, in order.
  std::vector<std::size_t> sizes() {
    std::lock_guard<std::mutex> guard{mtx_};
    return sizes_;
  }

private:
  void arrive(std::size_t ops) {
    std::unique_lock<std::mutex> lock{mtx_};
    sizes_.push_back(ops);
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::size_t> sizes_;
  bool open_ = false;
};

/// Threads that send requests held at a commit_gate. join() (also run on destruction)
/// opens the gate and joins them, so a test that fails half-way neither hangs nor leaves
/// a joinable thread. Declare it after what the threads use.
class gated_threads {
public:
  explicit gated_threads(std::shared_ptr<commit_gate> gate) : gate_(std::move(gate)) {
  }
  gated_threads(const gated_threads&) = delete;
  gated_threads& operator=(const gated_threads&) = delete;
  ~gated_threads() {
    join();
  }

  /// Starts `f` on a thread of its own.
  template <class F>
  void spawn(F f) {
    threads_.emplace_back(std::move(f));
  }

  /// Opens the gate and waits for every thread.
  void join() {
    gate_->open();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
  }

private:
  std::shared_ptr<commit_gate> gate_;
  std::vector<std::thread> threads_;
};

} // namespace ebuse::test
