// Wake-ups for readers waiting on a stream: the tenant writer signals after each commit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ebuse {

/// The signal id of the tenant's event log (not a stream: stream ids are positive).
/// The writer notifies it after every commit that appended events, and so does whatever
/// learns of a commit made elsewhere (another node on shared storage); readers waiting
/// for new events (long-poll, follow) watch it.
constexpr int64_t event_log_signal = -1;

/// Per-tenant wake-ups of waiting stream readers (long-poll, SSE). The writer calls
/// notify() with the streams a commit changed (appended to, closed, deleted); a reader
/// that found nothing past its offset waits through a stream_watch. Only streams with a
/// watcher are tracked, so the memory is bounded by the waiting readers.
///
/// This is the one place where a request waits: a blocked thread (stream_watch::wait) or
/// a callback (on_change) that resumes a parked response or wakes a follower's poll. The
/// version check is the same for both (watch, read, wait for a version past the one seen
/// before the read), and so is the writer's side.
class stream_signal {
public:
  /// Marks `ids` changed and wakes their watchers.
  void notify(const std::vector<int64_t>& ids);

  /// Wakes every watcher for good: later waits return at once (shutdown).
  void shutdown();

  /// Whether shutdown() was called.
  bool stopped() const;

  /// Calls `wake` once when stream `id`'s version moves past `seen` (taken by a
  /// stream_watch that is still alive) or the signal shuts down: from the notifying
  /// thread, or from this one at once when that already happened. This is how a parked
  /// response waits without a thread. Returns a token for cancel() (0: already called).
  uint64_t on_change(int64_t id, uint64_t seen, std::function<void()> wake);

  /// Forgets a callback of on_change() not called yet (a no-op after it was).
  void cancel(int64_t id, uint64_t token);

private:
  friend class stream_watch;

  struct entry {
    uint64_t version = 0;
    int watchers = 0; ///< stream_watch objects and callbacks
    std::unordered_map<uint64_t, std::function<void()>> callbacks; ///< by token
  };

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::unordered_map<int64_t, entry> streams_;
  bool stopped_ = false;
  uint64_t next_token_ = 0;

  // Moves the callbacks of `e` into `out` (called once each, outside the lock).
  static void take_callbacks(entry& e, std::vector<std::function<void()>>& out);
};

/// Interest in one stream for as long as it lives. Take the version, read the stream,
/// and if there was nothing to send, wait for a version past the one taken: a commit
/// between the read and the wait is not missed.
class stream_watch {
public:
  stream_watch(stream_signal& sig, int64_t stream_id);
  ~stream_watch();
  stream_watch(const stream_watch&) = delete;
  stream_watch& operator=(const stream_watch&) = delete;

  /// The stream's version now.
  uint64_t version() const;

  /// Waits until the version differs from `seen`, `deadline` passes or the signal is
  /// shut down. True when the stream changed.
  bool wait(uint64_t seen, std::chrono::steady_clock::time_point deadline);

private:
  stream_signal& sig_;
  int64_t id_;
};

} // namespace ebuse
