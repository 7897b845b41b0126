// The keep-alive loop of each connection and the set of open connections.
#include "http/connection.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/request_state.hpp"
#include "http/socket_stream.hpp"

namespace ebuse {

namespace {

// Set by the post-routing handler of the request answered on this thread.
thread_local bool close_requested = false;

} // namespace

void close_after_response(httplib::Response& res) {
  if (res.get_header_value("Connection") != "close")
    res.set_header("Connection", "close");
  close_requested = true;
}

namespace {

using clock = std::chrono::steady_clock;

thread_local socket_stream* current_stream = nullptr;
thread_local std::chrono::nanoseconds current_read_timeout{0};

enum class phase { idle, busy, closing };

struct conn_entry {
  socket_t sock = INVALID_SOCKET;
  phase ph = phase::busy;
  clock::time_point idle_since;
  bool served = false; ///< answered a request: idle now means keep-alive idle
};


// Closes after the last response. A client still sending (a body we refused) would get
// a reset on close, and a reset can destroy the response it has not read yet: so when
// input is pending, stop writing and discard input until it stops (briefly, boundedly).
void drain_and_close(socket_t sock) {
  char buf[4096];
  if (::recv(sock, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) > 0) {
    ::shutdown(sock, SHUT_WR);
    auto until = clock::now() + std::chrono::seconds(1);
    std::size_t drained = 0;
    while (drained < (1u << 20)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{sock, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100))) <= 0)
        break;
      auto n = ::recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
      if (n <= 0)
        break;
      drained += static_cast<std::size_t>(n);
    }
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

} // namespace

void flush_response() {
  if (current_stream)
    current_stream->flush();
}

void renew_read_deadline() {
  if (current_stream)
    current_stream->set_read_deadline(clock::now() + current_read_timeout);
}

bool client_disconnected() {
  if (!current_stream)
    return false;
  pollfd p{current_stream->socket(), POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0)
    return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

bool current_request_timed_out() noexcept {
  return current_stream && current_stream->timed_out();
}

// Open connections and their phase. A connection moves idle -> busy only under the
// lock, so closing an idle one can never cut a request that has begun.
struct connection_server::connection_set {
  mutable std::mutex mtx;
  std::vector<conn_entry*> conns;
  bool draining = false;
  std::atomic<std::size_t> queued{0};
  std::atomic<uint64_t> read_cut{0};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> shed{0};
  std::atomic<uint64_t> accept_errors{0};
  int threads = 1;

  void add(conn_entry* c) {
    std::lock_guard<std::mutex> guard{mtx};
    conns.push_back(c);
  }

  void remove(conn_entry* c) {
    std::lock_guard<std::mutex> guard{mtx};
    conns.erase(std::find(conns.begin(), conns.end(), c));
  }

  // False when the connection must close instead of waiting for another request.
  bool enter_idle(conn_entry* c) {
    std::lock_guard<std::mutex> guard{mtx};
    if (draining || c->ph == phase::closing)
      return false;
    c->ph = phase::idle;
    c->idle_since = clock::now();
    return true;
  }

  bool enter_busy(conn_entry* c) {
    std::lock_guard<std::mutex> guard{mtx};
    if (c->ph == phase::closing)
      return false;
    c->ph = phase::busy;
    return true;
  }

  static void cut(conn_entry* c) {
    c->ph = phase::closing;
    ::shutdown(c->sock, SHUT_RDWR);
  }

  // A new connection waits for a worker: free the keep-alive connection idle the longest,
  // if any. A connection that has not yet sent its first request is never shed: its
  // request may already be on the way (READ_TIMEOUT bounds it).
  void shed_one_idle() {
    std::lock_guard<std::mutex> guard{mtx};
    conn_entry* oldest = nullptr;
    for (auto* c : conns)
      if (c->ph == phase::idle && c->served && (!oldest || c->idle_since < oldest->idle_since))
        oldest = c;
    if (oldest) {
      cut(oldest);
      shed.fetch_add(1, std::memory_order_relaxed);
    }
  }

  void close(bool all) {
    std::lock_guard<std::mutex> guard{mtx};
    draining = true;
    for (auto* c : conns)
      if (all || c->ph == phase::idle)
        cut(c);
  }
};

namespace {

// The worker pool, counting connections that wait for a worker.
class counting_queue : public httplib::TaskQueue {
public:
  counting_queue(std::shared_ptr<connection_server::connection_set> set, std::size_t threads)
    : open_(std::move(set)), pool_(threads) {
  }

  void enqueue(std::function<void()> fn) override;

  void shutdown() override {
    pool_.shutdown();
  }

private:
  std::shared_ptr<connection_server::connection_set> open_;
  httplib::ThreadPool pool_;
};

} // namespace

void counting_queue::enqueue(std::function<void()> fn) {
  auto waiting = open_->queued.fetch_add(1) + 1;
  std::size_t held;
  {
    std::lock_guard<std::mutex> guard{open_->mtx};
    held = open_->conns.size();
  }
  // Every worker holds a connection: an idle keep-alive one must not make a new
  // client wait up to IDLE_TIMEOUT.
  if (held + waiting > static_cast<std::size_t>(open_->threads))
    open_->shed_one_idle();
  auto set = open_;
  pool_.enqueue([set, fn = std::move(fn)] {
    set->queued.fetch_sub(1);
    fn();
  });
}

connection_server::connection_server(connection_limits limits)
  : limits_(limits), open_(std::make_shared<connection_set>()) {
  open_->threads = std::max(1, limits.threads);
  auto set = open_;
  auto threads = static_cast<std::size_t>(open_->threads);
  new_task_queue = [set, threads] { return new counting_queue(set, threads); };
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

connection_server::~connection_server() {
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
}

void connection_server::note_accept_error() {
  open_->accept_errors.fetch_add(1, std::memory_order_relaxed);
}

void connection_server::close_idle() {
  open_->close(false);
}

void connection_server::close_all() {
  open_->close(true);
}

connection_counts connection_server::counts() const {
  connection_counts out;
  {
    std::lock_guard<std::mutex> guard{open_->mtx};
    out.open = open_->conns.size();
    for (auto* c : open_->conns)
      if (c->ph == phase::idle)
        ++out.idle;
  }
  out.queued = open_->queued.load();
  out.read_cut = open_->read_cut.load();
  out.idle_closed = open_->idle_closed.load();
  out.shed = open_->shed.load();
  out.accept_errors = open_->accept_errors.load();
  out.per_ip_refused = peers_.refused.load();
  return out;
}

void connection_server::serve_connection(socket_t sock) {
  conn_entry entry;
  entry.sock = sock;
  open_->add(&entry);
  socket_stream strm{sock, limits_.write_timeout};
  current_stream = &strm;
  current_read_timeout = limits_.read_timeout;
  auto start = clock::now();
  std::string peer;
  int peer_port = 0;
  strm.get_remote_ip_and_port(peer, peer_port);
  bool ret = false;
  bool first = true;
  for (std::size_t left = std::max<std::size_t>(1, limits_.keep_alive_max); left > 0; --left) {
    // Stopped: serve nothing more on this connection.
    if (!accepting_.load() || !open_->enter_idle(&entry))
      break;
    // The first request must arrive within READ_TIMEOUT of the connection; later ones
    // may take IDLE_TIMEOUT to begin and READ_TIMEOUT to arrive once begun.
    auto wait_until = first ? start + limits_.read_timeout : clock::now() + limits_.idle_timeout;
    bool ready = strm.wait_readable(wait_until);
    if (!open_->enter_busy(&entry))
      break;
    if (!ready) {
      (first ? open_->read_cut : open_->idle_closed).fetch_add(1, std::memory_order_relaxed);
      break;
    }
    strm.set_read_deadline(first ? start + limits_.read_timeout
                                 : clock::now() + limits_.read_timeout);
    first = false;
    begin_request(peer);
    strm.start_request();
    close_requested = false;
    bool closed = false;
    ret = process_request(strm, left == 1, closed, nullptr);
    strm.flush();
    entry.served = true;
    if (close_requested)
      closed = true;
    if (strm.timed_out())
      open_->read_cut.fetch_add(1, std::memory_order_relaxed);
    if (!ret || closed || strm.broken())
      break;
  }
  current_stream = nullptr;
  open_->remove(&entry);
  if (entry.ph == phase::closing || strm.broken()) {
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  } else {
    drain_and_close(sock);
  }
}

} // namespace ebuse
