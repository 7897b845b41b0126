// The accept loop of the HTTP server: each new connection goes to a worker, and a
// failed accept() that the next one may not repeat (no descriptors, no buffers, an
// aborted connection) is logged, backed off and retried instead of ending the server.
#include "http/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <netinet/in.h>

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

// The peer of an accepted connection, IPv4 as IPv4-mapped IPv6.
bool peer_address(const sockaddr_storage& ss, ip_address& out) {
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    out.bytes = {};
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(&out.bytes[12], &in.sin_addr, 4);
    return true;
  }
  if (ss.ss_family == AF_INET6) {
    std::memcpy(out.bytes.data(), &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, 16);
    return true;
  }
  return false;
}

// The answer to a connection over MAX_CONNS_PER_IP, whole.
const std::string& too_many_connections() {
  static const std::string body =
    "{\"error\":\"too many open connections from this address\","
    "\"code\":\"too_many_connections\"}\n";
  static const std::string whole = "HTTP/1.1 429 Too Many Requests\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Content-Length: "
                                   + std::to_string(body.size())
                                   + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
  return whole;
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
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    socket_t sock =
      ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
    if (sock != INVALID_SOCKET) {
      backoff = milliseconds{0};
      ip_address peer;
      bool counted = false;
      if (peer_address(ss, peer) && !admit_peer(sock, peer, counted))
        continue;
      queue->enqueue([this, sock, peer, counted] {
        serve_connection(sock);
        if (counted)
          release_peer(peer);
      });
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

void connection_server::exempt_from_ip_limit(trusted_proxies proxies) {
  exempt_ = std::move(proxies);
}

bool connection_server::admit_peer(socket_t sock, const ip_address& peer, bool& counted) {
  int cap = limits_.max_conns_per_ip;
  if (cap <= 0 || exempt_.contains(peer))
    return true;
  {
    std::lock_guard<std::mutex> guard{peers_.mtx};
    int& n = peers_.open[peer.bytes];
    if (n < cap) {
      ++n;
      counted = true;
      return true;
    }
  }
  // Answered here without a worker, in one non-blocking send that fits any socket
  // buffer. A request the client already sent is not read: the close may then reset
  // the connection before the client reads the answer.
  peers_.refused.fetch_add(1, std::memory_order_relaxed);
  const auto& answer = too_many_connections();
  [[maybe_unused]] auto n =
    ::send(sock, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(sock, SHUT_WR);
  ::close(sock);
  return false;
}

void connection_server::release_peer(const ip_address& peer) {
  std::lock_guard<std::mutex> guard{peers_.mtx};
  auto it = peers_.open.find(peer.bytes);
  if (it != peers_.open.end() && --it->second <= 0)
    peers_.open.erase(it);
}

void connection_server::stop_accepting() {
  accepting_.store(false);
  // Streamed responses watch this to end when the server stops.
  svr_sock_ = INVALID_SOCKET;
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
}

} // namespace ebuse
