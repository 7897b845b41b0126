// What a worker does with a connection between requests: wait a moment for the client's
// next request, or close it without destroying the last response.
#include "http/connection_idle.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>

#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>

namespace ebuse {

namespace {

using clock = std::chrono::steady_clock;

// How long a worker waits for an active client's next request before returning its
// connection to the loop: longer than a client's round trip under load, so a busy
// connection keeps its worker (one wake-up per request) while workers are plentiful.
constexpr long linger_ns = 20 * 1000 * 1000;
constexpr auto spin_before_sleep = std::chrono::microseconds(300);
std::atomic<int> spinning_workers{0}; ///< workers in linger()'s spin (at most one spins)

} // namespace

void drain_and_shutdown(socket_t sock) {
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
}

// After a response, with nothing pipelined: while at most half the workers are busy and
// no request waits for one, wait a moment for the client's next request here instead of
// paying a round through the loop and a second thread wake-up for it (request-response
// clients); when workers run short, connections go back to the loop at once.
void linger(loop_conn& c, const loop_figures& f, int threads) {
  if (f.busy.load(std::memory_order_relaxed) * 2 > static_cast<std::size_t>(threads)
      || f.queued.load(std::memory_order_relaxed) > 0)
    return;
  pollfd p{c.fd, POLLIN, 0};
  // First about a round trip of polling without sleeping, yielding the core: a thread
  // that sleeps gives its core back, and waking a halted core of a virtual machine costs
  // more than a lone client's whole round trip.
  // One worker at a time: with many clients, spinning threads would only take CPU
  // from the busy ones.
  bool ready = false;
  if (spinning_workers.fetch_add(1, std::memory_order_relaxed) == 0)
    for (auto until = clock::now() + spin_before_sleep; !ready && clock::now() < until;) {
      ready = ::poll(&p, 1, 0) > 0;
      if (!ready)
        sched_yield();
    }
  spinning_workers.fetch_sub(1, std::memory_order_relaxed);
  timespec ts{0, linger_ns};
  if (!ready && ::ppoll(&p, 1, &ts, nullptr) <= 0)
    return;
  char buf[16 * 1024];
  for (;;) {
    auto n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      c.in.append(buf, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof(buf))
        return;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
      c.close = c.in.empty();
    return;
  }
}


} // namespace ebuse
