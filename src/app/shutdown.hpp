// Graceful shutdown: each phase bounded, the process exits 1 when one outlives its bound.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>

namespace ebuse {

/// How long each phase of a shutdown may take.
struct shutdown_limits {
  /// SHUTDOWN_TIMEOUT: requests in flight may finish; then their connections are cut.
  std::chrono::nanoseconds grace = std::chrono::seconds(30);
  /// After the cut: a worker still waiting for the store gives up within REQUEST_TIMEOUT.
  std::chrono::nanoseconds drain = std::chrono::seconds(35);
  /// Once HTTP is done: every writer's final commit and checkpoint. Each waits at most the
  /// store's busy timeout for a lock, and then copies what the WAL holds.
  std::chrono::nanoseconds stores = std::chrono::seconds(20);

  /// The limits of a configuration: SHUTDOWN_TIMEOUT, REQUEST_TIMEOUT and the stores'
  /// busy timeout (a final commit and a final checkpoint may each wait that long).
  static shutdown_limits of(std::chrono::nanoseconds grace, std::chrono::nanoseconds request,
                            std::chrono::nanoseconds busy);
};

/// Drives a shutdown and bounds it. Thread-safe. Its timer thread runs from the first
/// begin() or served() and is joined on destruction.
class shutdown_control {
public:
  using action = std::function<void()>;

  /// `overdue` runs (on the timer thread) when a phase outlives its limit, with the
  /// phase's name; the default logs and exits the process with status 1 at once.
  explicit shutdown_control(shutdown_limits limits,
                            std::function<void(const char* phase)> overdue = {});
  ~shutdown_control();

  shutdown_control(const shutdown_control&) = delete;
  shutdown_control& operator=(const shutdown_control&) = delete;

  /// A signal: runs `stop` (stop accepting, close idle connections) now, and `cut`
  /// (close every connection) if requests still run after the grace period. Only the
  /// first call counts, and none after served().
  void begin(std::string_view reason, action stop, action cut);

  /// HTTP is done (server.run() returned, after a signal or on its own): the stores'
  /// final commits and checkpoints begin, bounded by `limits.stores`.
  void served();

  /// Everything has stopped: the timer ends without acting.
  void finished();

  /// True when the grace period ran out and open connections were cut.
  bool forced() const;

private:
  void start_timer(); // under mtx_
  void run();

  shutdown_limits limits_;
  std::function<void(const char*)> overdue_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  action cut_;
  std::chrono::steady_clock::time_point begun_at_;
  std::chrono::steady_clock::time_point served_at_;
  bool begun_ = false;
  bool served_ = false;
  bool finished_ = false;
  bool forced_ = false;
  std::thread timer_;
};

} // namespace ebuse
