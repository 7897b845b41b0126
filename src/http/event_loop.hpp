// The connection event loop: one thread owns every socket while it waits (for a first
// request, a request head or body, the next keep-alive request) and hands a connection
// to a worker only once a whole request is buffered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <httplib.h>

#include "http/client_ip.hpp"
#include "http/options.hpp"
#include "http/request_framer.hpp"

namespace ebuse {

/// One open connection. While a worker runs it, only that worker touches it (except its
/// descriptor, which the loop may shut down to cut it); otherwise only the loop does.
struct loop_conn {
  using clock = std::chrono::steady_clock;
  enum class state { reading, idle, worker };

  socket_t fd = INVALID_SOCKET;
  ip_address peer;
  bool counted = false;  ///< counted for MAX_CONNS_PER_IP
  std::string peer_ip;   ///< numeric, as logged
  int peer_port = 0;
  std::string in;        ///< bytes read and not yet served
  head_scan scan;        ///< how far `in` was framed
  clock::time_point started; ///< READ_TIMEOUT of the current request counts from here
  std::size_t requests = 0;  ///< requests served
  bool close = false;        ///< set by the worker: close instead of waiting again

  // The loop's own.
  state st = state::reading;
  bool registered = false; ///< in the epoll set
  bool dead = false;
  clock::time_point timer = clock::time_point::max();
};

/// Figures of the loop, read from any thread.
struct loop_figures {
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> reading{0};
  std::atomic<std::size_t> idle{0};
  std::atomic<std::size_t> in_worker{0};
  std::atomic<std::size_t> queued{0};
  std::atomic<std::size_t> busy{0};
  std::atomic<uint64_t> read_cut{0};
  std::atomic<uint64_t> idle_closed{0};
};

/// The loop and its worker pool.
class event_loop {
public:
  using clock = std::chrono::steady_clock;
  /// Runs the buffered request(s) of a connection on a worker.
  using runner = std::function<void(loop_conn&)>;
  /// Accepts what the listening socket holds, calling adopt() for each connection, on
  /// the loop thread. Returns a back-off before listening again (zero: none), or a
  /// negative duration when the listening socket failed for good.
  using acceptor = std::function<std::chrono::milliseconds()>;
  /// Told on the loop thread when a connection closes (its descriptor is closed after).
  using closer = std::function<void(loop_conn&)>;

  event_loop(connection_limits limits, std::size_t max_body, runner run, closer on_close);
  ~event_loop();

  /// Serves until stop_accepting() and every connection has closed, then joins the
  /// workers. False if the listening socket failed.
  bool run(socket_t listen_fd, acceptor accept);

  /// Takes an accepted, non-blocking socket (loop thread only).
  void adopt(socket_t fd, const ip_address& peer, bool counted, std::string peer_ip,
             int peer_port);

  /// From any thread: stop accepting; idle connections close, busy ones after their
  /// response.
  void stop_accepting();
  /// From any thread: cut every open connection.
  void close_all();

  const loop_figures& figures() const noexcept {
    return figures_;
  }

private:
  void wake();
  void on_readable(loop_conn& c);
  void hand_off(loop_conn& c);
  void take_back(loop_conn& c);
  void close_conn(loop_conn& c);
  void set_state(loop_conn& c, loop_conn::state s);
  void set_timer(loop_conn& c, clock::time_point at);
  void expire(clock::time_point now);
  void commands();
  int wait_ms(clock::time_point now) const;
  void watch(loop_conn& c);

  connection_limits limits_;
  std::size_t max_body_;
  runner run_;
  closer on_close_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  socket_t listen_fd_ = INVALID_SOCKET;
  bool listening_ = false;
  clock::time_point listen_again_ = clock::time_point::max();
  std::atomic<bool> accepting_{true};
  std::atomic<bool> cut_all_{false};
  bool draining_ = false;
  std::unordered_set<loop_conn*> conns_;
  std::vector<loop_conn*> graveyard_; ///< freed after the current batch of events
  std::set<std::pair<clock::time_point, loop_conn*>> timers_;
  std::mutex returned_mtx_;
  std::vector<loop_conn*> returned_; ///< given back by workers
  std::vector<char> scratch_;
  loop_figures figures_;
  std::unique_ptr<httplib::ThreadPool> pool_;
};

} // namespace ebuse
