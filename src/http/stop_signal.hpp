// The server's stop, as responses that wait between their writes see it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ebuse {

/// Raised once when the server stops: responses that wait between writes (live
/// streams) or for work off their thread (a backup copy) wake and end, so that they
/// never hold up a shutdown.
class stop_signal {
public:
  /// Waits until `deadline` or the stop; true when stopped.
  bool wait_until(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_until(lock, deadline, [this] { return raised_; });
  }

  /// Whether the stop was raised.
  bool raised() {
    std::lock_guard<std::mutex> guard{mtx_};
    return raised_;
  }

  /// Raises the stop and wakes every waiter.
  void raise() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      raised_ = true;
    }
    cv_.notify_all();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool raised_ = false;
};

} // namespace ebuse
