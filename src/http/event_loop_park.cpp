// Parked requests in the event loop: held without a thread until a wake-up from any
// thread, their deadline, their client leaving or shutdown; then run again on a worker.
#include "http/event_loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

namespace ebuse {

void event_loop::wake_queue::push(std::shared_ptr<park_ticket> t) {
  std::lock_guard<std::mutex> guard{mtx};
  if (fd < 0)
    return;
  // One write wakes the loop for a whole burst (a commit waking a thousand requests).
  bool first = woken.empty();
  woken.push_back(std::move(t));
  if (first) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof(one));
  }
}

std::function<void()> event_loop::waker(std::shared_ptr<park_ticket> ticket) {
  return [q = wakes_, ticket = std::move(ticket)] {
    if (!ticket->fired.exchange(true))
      q->push(ticket);
  };
}

// A worker gave back `c` with its request parked: hold it until something wakes it.
void event_loop::park(loop_conn& c) {
  set_state(c, loop_conn::state::parked);
  // Woken while the worker was still finishing, or shutting down: run it again now.
  if (draining_ || c.park->fired.load())
    return resume(c);
  set_timer(c, c.park->deadline);
  // Only the client leaving is watched: pipelined bytes stay in the socket until the
  // parked request is answered.
  epoll_event ev{};
  ev.events = EPOLLRDHUP;
  ev.data.ptr = &c;
  c.registered = ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) == 0;
  if (!c.registered)
    close_conn(c);
}

void event_loop::end_park(loop_conn& c) {
  if (!c.park)
    return;
  if (c.park->release) {
    c.park->release();
    c.park->release = nullptr;
  }
  c.resumed = std::move(c.park);
  c.park.reset();
}

void event_loop::resume(loop_conn& c) {
  end_park(c);
  hand_off(c);
}

void event_loop::resume_woken() {
  std::vector<std::shared_ptr<park_ticket>> woken;
  {
    std::lock_guard<std::mutex> guard{wakes_->mtx};
    woken.swap(wakes_->woken);
  }
  for (auto& t : woken) {
    // A ticket whose connection has closed, or has not come back from its worker yet
    // (park() sees `fired` then), is skipped. The state is the loop's own: `park` is
    // read only once the worker is done with the connection.
    auto at = conns_.find(t->conn);
    if (at != conns_.end() && (*at)->st == loop_conn::state::parked && (*at)->park == t)
      resume(**at);
  }
}

void event_loop::resume_all_parked() {
  std::vector<loop_conn*> parked;
  for (auto* c : conns_)
    if (c->st == loop_conn::state::parked)
      parked.push_back(c);
  for (auto* c : parked)
    resume(*c);
}

} // namespace ebuse
