// The connection event loop: one thread owns every socket while it waits (for a first
// request, a request head or body, the next keep-alive request) and hands a connection
// to a worker only once a whole request is buffered.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
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

struct loop_conn;
struct response_continuation;

/// A request parked in the loop without a thread until it is woken (from any thread: a
/// commit), its deadline passes, its client leaves or the server shuts down; then the
/// same buffered request runs again on a worker, which answers it.
struct park_ticket {
  using clock = std::chrono::steady_clock;
  loop_conn* conn = nullptr;  ///< its connection: compared by the loop, never dereferenced elsewhere
  clock::time_point deadline; ///< when the loop resumes it anyway
  clock::time_point start;    ///< the request's first byte (its log line times the whole wait)
  std::atomic<bool> fired{false};   ///< woken (the first wake-up counts)
  std::function<void()> release;    ///< forgets the wake-up source's registration (loop thread, once)
  std::shared_ptr<const void> note; ///< what the handler keeps for its next pass
  httplib::Headers kept;            ///< response headers of the first pass its answer carries
  std::size_t request_bytes = 0;    ///< the request's length at the front of its connection's input
  bool shareable = false;           ///< its answer is decided by its bytes and the store alone
  bool for_body = false; ///< not parked: its `100 Continue` is sent and the loop reads its body
};

/// One open connection. While a worker runs it, only that worker touches it (except its
/// descriptor, which the loop may shut down to cut it); otherwise only the loop does.
struct loop_conn {
  using clock = std::chrono::steady_clock;
  enum class state { reading, idle, worker, parked, following };

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
  std::shared_ptr<park_ticket> park;    ///< set by the worker: its request parked (`in` holds it)
  std::shared_ptr<park_ticket> resumed; ///< set by the loop: the first request runs again
  /// Set by the loop on a resumed connection: others woken in the same burst with
  /// byte-identical requests, held for this one's worker, which answers them too.
  std::vector<loop_conn*> followers;
  /// Set by the worker: the response goes on in the loop (a caught-up follower, a finite
  /// stream, a download, a Durable Streams SSE response); its next parts are made and
  /// sent by continued_response.cpp, never by the library.
  std::shared_ptr<response_continuation> cont;
  std::string out;         ///< bytes of `cont` not sent yet (at most one part)
  std::size_t out_off = 0; ///< of those, sent
  bool cont_ended = false; ///< `out` ends the response: close (or see cont_keep) once sent
  bool cont_keep = false;  ///< a finite `cont` that ends waits for the next request

  // The loop's own.
  state st = state::reading;
  bool registered = false; ///< in the epoll set (one-shot, see arm())
  bool dead = false;
  clock::time_point timer = clock::time_point::max();
};

/// Figures of the loop, read from any thread.
struct loop_figures {
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> reading{0};
  std::atomic<std::size_t> idle{0};
  std::atomic<std::size_t> in_worker{0};
  std::atomic<std::size_t> parked{0};
  std::atomic<std::size_t> following{0};
  std::atomic<std::size_t> queued{0};
  std::atomic<std::size_t> busy{0};
  std::atomic<uint64_t> read_cut{0};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> write_cut{0};
  std::atomic<uint64_t> shared_answers{0};
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

  /// For a worker parking its request: what wakes `ticket`. Callable from any thread,
  /// any number of times (the first counts), also after the connection closed or the
  /// loop ended (then it does nothing).
  std::function<void()> waker(std::shared_ptr<park_ticket> ticket);

  /// From a worker: runs a follower (loop_conn::followers) on a worker as a resumed
  /// request of its own.
  void run_on_worker(loop_conn& c);

  /// From a worker: gives back a connection it holds (a follower it answered).
  void give_back(loop_conn& c);
  /// From a worker: gives back the connections it holds, with one wake-up of the loop.
  void give_back(const std::vector<loop_conn*>& cs);

  /// From a worker: runs `task` on another worker (the second half of a burst's writes).
  /// The loop keeps running while the task holds connections: they are not given back.
  void run_task(std::function<void()> task);

  /// Counts an answer written from another request's rendering.
  void count_shared_answer() noexcept {
    figures_.shared_answers.fetch_add(1, std::memory_order_relaxed);
  }

  /// False once the server stops accepting: a request answers instead of parking.
  bool parking() const noexcept {
    return accepting_.load(std::memory_order_relaxed);
  }

  /// Woken tickets, pushed from any thread (event_loop_park.cpp).
  struct wake_queue;

private:
  void give_back(loop_conn* const* cs, std::size_t n);
  void wake();
  void on_readable(loop_conn& c);
  void hand_off(loop_conn& c);
  void detach(loop_conn& c);
  void take_back(loop_conn& c);
  void close_conn(loop_conn& c);
  void set_state(loop_conn& c, loop_conn::state s);
  void set_timer(loop_conn& c, clock::time_point at);
  void expire(clock::time_point now);
  void commands();
  int wait_ms(clock::time_point now) const;
  void arm(loop_conn& c, uint32_t events);
  void watch(loop_conn& c);
  void rewatch(loop_conn& c);
  // Parking (event_loop_park.cpp).
  void park(loop_conn& c);
  void resume(loop_conn& c);
  void end_park(loop_conn& c);
  void resume_woken();
  bool shares_answer(const loop_conn& c) const;
  void resume_all_parked();
  void drain_and_cut(); ///< the shutdown steps asked for (event_loop_stop.cpp)
  // Continued responses waiting to write (continued_response.cpp).
  void wait_writable(loop_conn& c);
  void on_writable(loop_conn& c, uint32_t events);
  void rearm_writable(loop_conn& c); ///< waits for EPOLLOUT again (or closes)

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
  std::shared_ptr<wake_queue> wakes_;
};

/// Tickets woken since the loop last looked, and the loop's wake-up descriptor. Outlives
/// the loop while a wake-up source still holds a waker.
struct event_loop::wake_queue {
  std::mutex mtx;
  std::vector<std::shared_ptr<park_ticket>> woken;
  int fd = -1;         ///< the loop's eventfd; -1 once the loop ended
  /// Queues `t` and wakes the loop when the queue was empty.
  void push(std::shared_ptr<park_ticket> t);
};

} // namespace ebuse
