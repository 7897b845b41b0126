// Signals: taken by one thread through a signalfd, never by a handler.
#pragma once

#include <csignal>
#include <functional>
#include <thread>

namespace ebuse {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, and so in every thread it
/// starts from then on (the actor system's, the HTTP workers, the log writer), and
/// ignores SIGPIPE. Call before any thread exists. Returns the set for signal_thread.
sigset_t block_signals();

/// A thread that takes the signals of `sigs` (blocked in every thread): SIGHUP calls
/// `on_hangup`, SIGINT or SIGTERM call `on_stop` with the signal's name. It is joined
/// when the object is destroyed, so the callbacks may refer to anything that outlives
/// the object; signals arriving after that stay pending and do nothing.
class signal_thread {
public:
  signal_thread(sigset_t sigs, std::function<void()> on_hangup,
                std::function<void(const char* name)> on_stop);
  ~signal_thread();

  signal_thread(const signal_thread&) = delete;
  signal_thread& operator=(const signal_thread&) = delete;

private:
  void run();

  std::function<void()> on_hangup_;
  std::function<void(const char*)> on_stop_;
  int signal_fd_ = -1;
  int wake_fd_ = -1; ///< an eventfd written by the destructor
  std::thread thread_;
};

} // namespace ebuse
