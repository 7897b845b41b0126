// Continued responses: a worker asks the continuation for its next part and sends it
// without blocking; what the socket does not take waits in the loop for EPOLLOUT under
// WRITE_TIMEOUT, and only once it is all sent is the next part made.
#include <cerrno>

#include <sys/epoll.h>
#include <sys/socket.h>

#include "http/connection.hpp"
#include "http/continuation.hpp"

namespace ebuse {

namespace {

enum class sent { all, partly, failed };

// Parts one worker turn makes before the connection queues again behind other work: a
// follower catching up a long backlog shares the workers.
constexpr int parts_per_turn = 16;

// Sends the rest of `c.out` without waiting; `progress` tells whether any byte went.
sent send_out(loop_conn& c, bool& progress) {
  progress = false;
  while (c.out_off < c.out.size()) {
    auto n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                    MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      progress = true;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return sent::partly;
    } else {
      return sent::failed;
    }
  }
  c.out.clear();
  c.out_off = 0;
  return sent::all;
}

// The last byte of a finite response that keeps its connection is sent: the connection
// is as a response the library wrote leaves it (its next request may be buffered).
void end_kept(loop_conn& c) {
  c.cont.reset();
  c.cont_ended = false;
  c.cont_keep = false;
  c.started = std::chrono::steady_clock::now(); // READ_TIMEOUT of a pipelined request
}

} // namespace

void append_chunk(std::string& out, std::string_view data) {
  static constexpr char digits[] = "0123456789abcdef";
  char hex[16];
  int len = 0;
  auto n = data.size();
  do {
    hex[len++] = digits[n & 15];
    n >>= 4;
  } while (n > 0);
  while (len > 0)
    out.push_back(hex[--len]);
  out.append("\r\n").append(data).append("\r\n");
}

void connection_server::run_continuation(loop_conn& c) {
  c.resumed.reset(); // woken or at its deadline: the continuation reads again either way
  auto park = [this, &c](std::chrono::steady_clock::time_point deadline,
                         const park_subscribe& subscribe) {
    auto t = std::make_shared<park_ticket>();
    t->conn = &c;
    t->deadline = deadline;
    t->start = std::chrono::steady_clock::now();
    t->release = subscribe(loop_->waker(t));
    c.park = std::move(t);
  };
  for (int parts = 0;; ++parts) {
    bool progress;
    auto r = c.out.empty() ? sent::all : send_out(c, progress);
    if (r == sent::partly)
      return; // the loop sends the rest when the socket takes it
    if (r == sent::failed || c.cont_ended) {
      if (r == sent::failed)
        ::shutdown(c.fd, SHUT_RDWR);
      if (r != sent::failed && c.cont_keep)
        return end_kept(c); // the loop takes it back for its next request
      c.close = true;
      return;
    }
    if (parts == parts_per_turn)
      return; // the loop hands it to a worker again, after those queued
    switch (c.cont->next_part(c.out, !loop_->parking(), park)) {
    case continuation_step::more:
      break;
    case continuation_step::end:
      c.cont_ended = true;
      break;
    case continuation_step::cut:
      ::shutdown(c.fd, SHUT_RDWR);
      c.close = true;
      return;
    case continuation_step::wait:
      return;
    }
  }
}

// A continued response came back from its worker with bytes the socket did not take, or
// at the end of its turn (then it queues for a worker again).
void event_loop::wait_writable(loop_conn& c) {
  if (c.out_off >= c.out.size())
    return hand_off(c);
  set_state(c, loop_conn::state::following);
  set_timer(c, clock::now() + limits_.write_timeout);
  rearm_writable(c);
}

// A finite response is not watched for the client's half-close: a client that shut its
// sending side after its request still reads the whole body.
void event_loop::rearm_writable(loop_conn& c) {
  arm(c, c.cont->finite() ? EPOLLOUT : EPOLLOUT | EPOLLRDHUP);
  if (!c.registered)
    close_conn(c);
}

void event_loop::on_writable(loop_conn& c, uint32_t events) {
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    return close_conn(c); // the follower left, or the connection failed
  bool progress;
  auto r = send_out(c, progress);
  if (r == sent::failed)
    return close_conn(c);
  if (r == sent::partly) {
    if (progress)
      set_timer(c, clock::now() + limits_.write_timeout);
    return rearm_writable(c); // the registration is one-shot
  }
  if (c.cont_ended && !c.cont_keep)
    return close_conn(c);
  if (c.cont_ended) {
    end_kept(c);
    return take_back(c); // as a worker gives back a connection after its response
  }
  detach(c);
  run_on_worker(c); // all sent: a worker makes the next part
}

} // namespace ebuse
