// The accept loop of the HTTP server: each new connection goes to a worker, and a
// failed accept() that the next one may not repeat (no descriptors, no buffers, an
// aborted connection) is logged, backed off and retried instead of ending the server.
#include "http/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "obs/logger.hpp"

namespace ebuse {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds max_backoff{100};

// Errors of the connection being accepted, not of the server: the next accept() works.
bool aborted_connection(int err) noexcept {
  switch (err) {
  case ECONNABORTED:
  case EPROTO:
  case ENETDOWN:
  case ENOPROTOOPT:
  case EHOSTDOWN:
  case ENONET:
  case EHOSTUNREACH:
  case EOPNOTSUPP:
  case ENETUNREACH:
  case ETIMEDOUT:
  case EPERM: // refused by a firewall rule
    return true;
  default:
    return false;
  }
}

} // namespace

accept_failure classify_accept_error(int err) noexcept {
  if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
    return accept_failure::none;
  if (aborted_connection(err))
    return accept_failure::connection;
  if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
    return accept_failure::resources;
  return accept_failure::fatal;
}

bool connection_server::serve(socket_t listen_fd) {
  // Non-blocking: a connection that vanishes between poll() and accept() must not leave
  // the loop blocked where stop_accepting() cannot wake it.
  ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  std::unique_ptr<httplib::TaskQueue> queue{new_task_queue()};
  milliseconds backoff{0};
  clock::time_point last_log{};
  uint64_t unlogged = 0;
  bool ok = true;
  while (accepting_.load()) {
    // Out of resources: wait before trying again, or the loop spins while the pending
    // connection stays in the backlog.
    pollfd p[2] = {{wake_fd_, POLLIN, 0}, {listen_fd, POLLIN, 0}};
    int nfds = backoff.count() > 0 ? 1 : 2;
    int wait_ms = backoff.count() > 0 ? static_cast<int>(backoff.count()) : -1;
    if (::poll(p, static_cast<nfds_t>(nfds), wait_ms) < 0 && errno != EINTR)
      break;
    if (!accepting_.load())
      break;
    socket_t sock = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (sock != INVALID_SOCKET) {
      backoff = milliseconds{0};
      queue->enqueue([this, sock] { process_and_close_socket(sock); });
      continue;
    }
    int err = errno;
    auto kind = classify_accept_error(err);
    if (kind == accept_failure::none) {
      backoff = milliseconds{0};
      continue;
    }
    if (kind == accept_failure::fatal) {
      log::write(log::level::error, "accept failed; no longer accepting connections",
                 {{"error", log::str(std::strerror(err))}});
      ok = false;
      break;
    }
    note_accept_error();
    if (kind == accept_failure::resources)
      backoff = std::min(max_backoff, std::max(milliseconds{1}, backoff * 2));
    // One line per second at most: under a flood of connections this repeats fast.
    ++unlogged;
    auto now = clock::now();
    if (now - last_log >= std::chrono::seconds(1)) {
      log::write(log::level::warn, "accept failed; retrying",
                 {{"error", log::str(std::strerror(err))},
                  {"failures", log::num(static_cast<int64_t>(unlogged))},
                  {"retry_ms", log::num(static_cast<int64_t>(backoff.count()))}});
      last_log = now;
      unlogged = 0;
    }
  }
  ::close(listen_fd);
  // Every in-flight request completes before serving ends.
  queue->shutdown();
  return ok;
}

void connection_server::stop_accepting() {
  accepting_.store(false);
  // Streamed responses watch this to end when the server stops.
  svr_sock_ = INVALID_SOCKET;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

} // namespace ebuse
