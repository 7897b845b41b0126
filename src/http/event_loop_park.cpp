// Parked requests in the event loop: held without a thread until a wake-up from any
// thread, their deadline, their client leaving or shutdown; then run again on a worker.
#include "http/event_loop.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>

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
  set_state(c, c.cont ? loop_conn::state::following : loop_conn::state::parked);
  // Woken while the worker was still finishing, or shutting down: run it again now.
  if (draining_ || c.park->fired.load())
    return resume(c);
  set_timer(c, c.park->deadline);
  // Only the client leaving is watched: pipelined bytes stay in the socket until the
  // parked request is answered.
  arm(c, EPOLLRDHUP);
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

// Whether `c`'s answer may be written from another identical request's rendering: its
// handler said so, and its own pass would neither close the connection (the last request
// keep-alive allows, shutdown) nor differ otherwise.
bool event_loop::shares_answer(const loop_conn& c) const {
  auto keep_alive_max = std::max<std::size_t>(1, limits_.keep_alive_max);
  return c.park->shareable && c.park->request_bytes > 0 && !draining_
         && c.requests + 1 < keep_alive_max;
}

void event_loop::resume_woken() {
  std::vector<std::shared_ptr<park_ticket>> woken;
  {
    std::lock_guard<std::mutex> guard{wakes_->mtx};
    woken.swap(wakes_->woken);
  }
  // Requests woken together with byte-identical text (the same page at the same head,
  // asked the same way) get one answer: the first runs, its worker writes the same
  // bytes to the others (connection.cpp). The key is the request's text and the
  // rate-limit headers its first pass was admitted with (its answer carries them).
  std::unordered_map<std::string, loop_conn*> leaders;
  std::vector<loop_conn*> order;
  for (auto& t : woken) {
    // A ticket whose connection has closed, or has not come back from its worker yet
    // (park() sees `fired` then), is skipped. The state is the loop's own: `park` is
    // read only once the worker is done with the connection.
    auto at = conns_.find(t->conn);
    if (at == conns_.end()
        || ((*at)->st != loop_conn::state::parked && (*at)->st != loop_conn::state::following)
        || (*at)->park != t)
      continue;
    auto* c = *at;
    if (c->cont || !shares_answer(*c)) {
      resume(*c);
      continue;
    }
    std::string key = c->in.substr(0, t->request_bytes);
    for (const auto& [name, value] : t->kept)
      key.append("\n").append(name).append(": ").append(value);
    auto [lead, first] = leaders.emplace(std::move(key), c);
    if (first)
      order.push_back(c);
    else
      lead->second->followers.push_back(c);
  }
  for (auto* lead : order) {
    for (auto* f : lead->followers) {
      end_park(*f);
      detach(*f);
    }
    resume(*lead);
  }
}

void event_loop::resume_all_parked() {
  std::vector<loop_conn*> parked;
  for (auto* c : conns_)
    if ((c->st == loop_conn::state::parked || c->st == loop_conn::state::following) && c->park)
      parked.push_back(c);
  for (auto* c : parked)
    resume(*c);
}

} // namespace ebuse
