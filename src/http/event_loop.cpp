// The epoll loop: reads and frames requests, keeps deadlines, hands whole requests to
// workers and takes their connections back.
#include "http/event_loop.hpp"

#include <algorithm>
#include <cerrno>

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ebuse {

namespace {

// epoll user data of the two descriptors that are not connections.
char wake_tag;
char listen_tag;

constexpr std::size_t read_chunk = 64 * 1024;

} // namespace

event_loop::event_loop(connection_limits limits, std::size_t max_body, runner run,
                       closer on_close)
  : limits_(limits), max_body_(max_body), run_(std::move(run)), on_close_(std::move(on_close)),
    scratch_(read_chunk) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &wake_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  wakes_ = std::make_shared<wake_queue>();
  wakes_->fd = wake_fd_;
}

event_loop::~event_loop() {
  {
    std::lock_guard<std::mutex> guard{wakes_->mtx};
    wakes_->fd = -1;
    wakes_->woken.clear();
  }
  for (auto* c : conns_) {
    end_park(*c);
    ::close(c->fd);
    delete c;
  }
  for (auto* c : graveyard_)
    delete c;
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void event_loop::wake() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

void event_loop::set_state(loop_conn& c, loop_conn::state s) {
  auto counter = [this](loop_conn::state x) -> std::atomic<std::size_t>& {
    return x == loop_conn::state::reading     ? figures_.reading
           : x == loop_conn::state::idle      ? figures_.idle
           : x == loop_conn::state::parked    ? figures_.parked
           : x == loop_conn::state::following ? figures_.following
                                              : figures_.in_worker;
  };
  counter(c.st).fetch_sub(1, std::memory_order_relaxed);
  counter(s).fetch_add(1, std::memory_order_relaxed);
  c.st = s;
}

void event_loop::set_timer(loop_conn& c, clock::time_point at) {
  if (c.timer != clock::time_point::max())
    timers_.erase({c.timer, &c});
  c.timer = at;
  if (at != clock::time_point::max())
    timers_.insert({at, &c});
}

// Registrations are one-shot: an event disarms the connection until the next arm(), which
// is one EPOLL_CTL_MOD while it is still in the set (a parked connection resumed, see
// detach()). An event of a connection a worker holds (its client leaving while a resumed
// request runs) only disarms it: the next arm() reports it again (level-triggered).
void event_loop::arm(loop_conn& c, uint32_t events) {
  epoll_event ev{};
  ev.events = events | EPOLLONESHOT;
  ev.data.ptr = &c;
  c.registered =
    ::epoll_ctl(epoll_fd_, c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd, &ev) == 0;
}

void event_loop::watch(loop_conn& c) {
  arm(c, EPOLLIN | EPOLLRDHUP);
}

void event_loop::adopt(socket_t fd, const ip_address& peer, bool counted, std::string peer_ip,
                       int peer_port) {
  auto* c = new loop_conn;
  c->fd = fd;
  c->peer = peer;
  c->counted = counted;
  c->peer_ip = std::move(peer_ip);
  c->peer_port = peer_port;
  // The first request must arrive whole within READ_TIMEOUT of the connection.
  c->started = clock::now();
  conns_.insert(c);
  figures_.open.fetch_add(1, std::memory_order_relaxed);
  figures_.reading.fetch_add(1, std::memory_order_relaxed);
  set_timer(*c, c->started + limits_.read_timeout);
  watch(*c);
  if (!c->registered)
    close_conn(*c);
}

void event_loop::close_conn(loop_conn& c) {
  if (c.dead)
    return;
  if (c.registered)
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  set_timer(c, clock::time_point::max());
  end_park(c);
  on_close_(c);
  ::close(c.fd);
  c.dead = true;
  set_state(c, loop_conn::state::reading);
  figures_.reading.fetch_sub(1, std::memory_order_relaxed);
  figures_.open.fetch_sub(1, std::memory_order_relaxed);
  conns_.erase(&c);
  graveyard_.push_back(&c);
}

void event_loop::on_readable(loop_conn& c) {
  for (;;) {
    ssize_t n = ::recv(c.fd, scratch_.data(), scratch_.size(), MSG_DONTWAIT);
    if (n > 0) {
      if (c.st == loop_conn::state::idle) {
        // The next request's first byte: READ_TIMEOUT for the whole of it from now.
        set_state(c, loop_conn::state::reading);
        c.started = clock::now();
        set_timer(c, c.started + limits_.read_timeout);
      }
      c.in.append(scratch_.data(), static_cast<std::size_t>(n));
      if (frame_request(c.in, c.scan, max_body_) != frame_kind::incomplete)
        return hand_off(c);
      if (static_cast<std::size_t>(n) < scratch_.size())
        return rewatch(c);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return rewatch(c);
    // Closed by the peer, or failed, before a whole request arrived.
    return close_conn(c);
  }
}

// Waits for more of `c`'s request (its one-shot registration fired).
void event_loop::rewatch(loop_conn& c) {
  watch(c);
  if (!c.registered)
    close_conn(c);
}

// A worker holds `c` from now on. A resumed parked connection or a follower keeps its
// registration (a woken burst costs no epoll_ctl here, one MOD at take-back); any other
// leaves the epoll set, so that the requests a worker reads itself (linger) do not run
// the set's wake-up callback for each packet.
void event_loop::detach(loop_conn& c) {
  if (c.registered && c.st != loop_conn::state::parked
      && c.st != loop_conn::state::following) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    c.registered = false;
  }
  set_timer(c, clock::time_point::max());
  set_state(c, loop_conn::state::worker);
}

void event_loop::hand_off(loop_conn& c) {
  detach(c);
  run_on_worker(c);
}

void event_loop::run_on_worker(loop_conn& c) {
  figures_.queued.fetch_add(1, std::memory_order_relaxed);
  auto* conn = &c;
  pool_->enqueue([this, conn] {
    figures_.queued.fetch_sub(1, std::memory_order_relaxed);
    figures_.busy.fetch_add(1, std::memory_order_relaxed);
    run_(*conn);
    figures_.busy.fetch_sub(1, std::memory_order_relaxed);
    give_back(*conn);
  });
}

void event_loop::run_task(std::function<void()> task) {
  figures_.queued.fetch_add(1, std::memory_order_relaxed);
  pool_->enqueue([this, task = std::move(task)] {
    figures_.queued.fetch_sub(1, std::memory_order_relaxed);
    figures_.busy.fetch_add(1, std::memory_order_relaxed);
    task();
    figures_.busy.fetch_sub(1, std::memory_order_relaxed);
  });
}

void event_loop::give_back(const std::vector<loop_conn*>& cs) {
  give_back(cs.data(), cs.size());
}

void event_loop::give_back(loop_conn& c) {
  loop_conn* one = &c;
  give_back(&one, 1);
}

void event_loop::give_back(loop_conn* const* cs, std::size_t n) {
  // One wake-up of the loop per batch of returns (a burst of resumed long-polls): the
  // loop takes every returned connection each time it wakes.
  if (n == 0)
    return;
  bool first;
  {
    std::lock_guard<std::mutex> guard{returned_mtx_};
    first = returned_.empty();
    returned_.insert(returned_.end(), cs, cs + n);
  }
  if (first)
    wake();
}

// A worker is done with `c`: close it, or wait for its next request (whose first bytes
// may already be buffered).
void event_loop::take_back(loop_conn& c) {
  if (c.park)
    return park(c);
  if (c.cont && !c.close)
    return wait_writable(c);
  // While draining, a request whose `100 Continue` went out still gets its answer.
  if (c.close || (draining_ && !(c.resumed && c.resumed->for_body)))
    return close_conn(c);
  // A request whose `100 Continue` went out keeps that mark until its body is here.
  bool continue_sent = c.scan.continue_sent;
  c.scan = head_scan{};
  c.scan.continue_sent = continue_sent;
  if (c.in.empty()) {
    set_state(c, loop_conn::state::idle);
    set_timer(c, clock::now() + limits_.idle_timeout);
  } else {
    set_state(c, loop_conn::state::reading);
    set_timer(c, c.started + limits_.read_timeout);
    if (frame_request(c.in, c.scan, max_body_) != frame_kind::incomplete)
      return hand_off(c);
  }
  rewatch(c);
}

void event_loop::expire(clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto& c = *timers_.begin()->second;
    set_timer(c, clock::time_point::max());
    if (c.park) {
      resume(c); // its deadline: answered with what there is (a follower: a heartbeat)
    } else if (c.st == loop_conn::state::following) {
      figures_.write_cut.fetch_add(1, std::memory_order_relaxed);
      close_conn(c); // its client took no byte for WRITE_TIMEOUT
    } else if (c.st == loop_conn::state::idle) {
      figures_.idle_closed.fetch_add(1, std::memory_order_relaxed);
      close_conn(c);
    } else if (c.in.empty()) {
      figures_.read_cut.fetch_add(1, std::memory_order_relaxed);
      close_conn(c);
    } else {
      // Part of a request: a worker reads it, misses the deadline, answers 408.
      hand_off(c);
    }
  }
  if (listen_again_ <= now && listen_fd_ != INVALID_SOCKET) {
    listen_again_ = clock::time_point::max();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &listen_tag;
    listening_ = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0;
  }
}

// What other threads asked for: connections given back, woken requests, shutdown steps.
void event_loop::commands() {
  {
    std::vector<loop_conn*> back;
    {
      std::lock_guard<std::mutex> guard{returned_mtx_};
      back.swap(returned_);
    }
    for (auto* c : back)
      take_back(*c);
  }
  resume_woken();
  drain_and_cut();
}

int event_loop::wait_ms(clock::time_point now) const {
  auto next = std::min(listen_again_,
                       timers_.empty() ? clock::time_point::max() : timers_.begin()->first);
  if (next == clock::time_point::max())
    return -1;
  if (next <= now)
    return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1;
  return static_cast<int>(std::min<long long>(ms, 60000));
}

bool event_loop::run(socket_t listen_fd, acceptor accept) {
  pool_ = std::make_unique<httplib::ThreadPool>(
    static_cast<std::size_t>(std::max(1, limits_.threads)));
  listen_fd_ = listen_fd;
  listen_again_ = clock::time_point::min();
  bool ok = true;
  std::vector<epoll_event> events(256);
  for (;;) {
    commands();
    auto now = clock::now();
    expire(now);
    // After expire(): the last connection may have closed at its deadline (a write
    // timeout while draining), and no event would end the wait that follows.
    if (draining_ && conns_.empty())
      break;
    int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                         wait_ms(now));
    if (n < 0 && errno != EINTR)
      break;
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &wake_tag) {
        uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof(v));
      } else if (tag == &listen_tag) {
        if (!accepting_.load() || listen_fd_ == INVALID_SOCKET)
          continue;
        auto backoff = accept();
        if (backoff.count() < 0) {
          ok = false;
          accepting_.store(false);
        } else if (backoff.count() > 0) {
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          listening_ = false;
          listen_again_ = clock::now() + backoff;
        }
      } else {
        auto* c = static_cast<loop_conn*>(tag);
        if (c->dead || !c->registered || c->st == loop_conn::state::worker)
          continue;
        // A parked connection is watched only for its client leaving.
        if (c->park)
          close_conn(*c);
        else if (c->st == loop_conn::state::following)
          on_writable(*c, events[i].events);
        else
          on_readable(*c);
      }
    }
    for (auto* c : graveyard_)
      delete c;
    graveyard_.clear();
  }
  // Closed at their deadline just before: freed while the server they account to lives.
  for (auto* c : graveyard_)
    delete c;
  graveyard_.clear();
  if (listen_fd_ != INVALID_SOCKET)
    ::close(listen_fd_);
  listen_fd_ = INVALID_SOCKET;
  // Every worker is idle: no connection is left to run.
  pool_->shutdown();
  return ok;
}

} // namespace ebuse
