// LISTEN for commit notifications of every tenant, reconnecting after a loss.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "storage/pg_store.hpp"

namespace ebuse {

/// A connection that LISTENs on pg_head_channel on a thread of its own and hands each
/// commit's "(tenant, head)" to a callback: how a node learns of commits made by other
/// nodes. After the connection is lost it reconnects with back-off (50 ms doubling to
/// 2 s); notifications sent meanwhile are lost, so each (re)connection is announced with
/// `on_connected`, after which the owner re-reads the heads it cares about.
class pg_listener {
public:
  /// Called with a tenant and its new head, in commit order, on the listener's thread:
  /// must be quick and must not block (e.g. send a message).
  using notify_fn = std::function<void(const std::string& tenant, int64_t head)>;
  /// Called on the listener's thread each time LISTEN is in place.
  using connected_fn = std::function<void()>;

  /// Starts listening on `url` (validated).
  pg_listener(std::string url, notify_fn on_notify, connected_fn on_connected,
              const pg_options& opts = {});
  /// Stops and joins the thread.
  ~pg_listener();
  pg_listener(const pg_listener&) = delete;
  pg_listener& operator=(const pg_listener&) = delete;

  /// Stops listening and joins the thread (idempotent).
  void stop();

  /// Whether LISTEN is currently in place.
  bool connected() const noexcept {
    return connected_.load();
  }

private:
  void run();
  // Waits for the connection's socket (or only the stop signal when `fd` < 0) up to
  // `ms`; false once stopped.
  bool wait(int fd, int ms, bool& readable);
  void listen_on(pg::connection& c);

  std::string url_;
  notify_fn on_notify_;
  connected_fn on_connected_;
  pg_options opts_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

} // namespace ebuse
