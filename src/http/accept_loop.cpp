// Accepting connections for the event loop: each new connection joins the loop, and a
// failed accept() that the next one may not repeat (no descriptors, no buffers, an
// aborted connection) is logged, backed off and retried instead of ending the server.
#include "http/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <netdb.h>
#include <netinet/in.h>

#include <fcntl.h>
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

// The numeric address and port of a peer, as logged.
void numeric_address(const sockaddr_storage& ss, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&ss), len, host, sizeof(host), nullptr,
                    0, NI_NUMERICHOST)
      == 0)
    ip = host;
  if (ss.ss_family == AF_INET)
    port = ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  else if (ss.ss_family == AF_INET6)
    port = ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
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
  // Non-blocking: a connection that vanishes between readiness and accept() must not
  // leave the loop blocked.
  ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  return loop_->run(listen_fd, [this, listen_fd] { return accept_ready(listen_fd); });
}

// Accepts a bounded batch, so that a flood of new connections cannot starve the
// connections the loop already holds.
milliseconds connection_server::accept_ready(socket_t listen_fd) {
  for (int batch = 0; batch < 64; ++batch) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    socket_t sock = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len,
                              SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (sock != INVALID_SOCKET) {
      backoff_ = milliseconds{0};
      ip_address peer;
      bool counted = false;
      if (peer_address(ss, peer) && !admit_peer(sock, peer, counted))
        continue;
      std::string ip;
      int port = 0;
      numeric_address(ss, len, ip, port);
      loop_->adopt(sock, peer, counted, std::move(ip), port);
      continue;
    }
    int err = errno;
    auto kind = classify_accept_error(err);
    if (kind == accept_failure::none) {
      backoff_ = milliseconds{0};
      return backoff_;
    }
    if (kind == accept_failure::fatal) {
      log::write(log::level::error, "accept failed; no longer accepting connections",
                 {{"error", log::str(std::strerror(err))}});
      return milliseconds{-1};
    }
    note_accept_error();
    if (kind == accept_failure::resources)
      backoff_ = std::min(max_backoff, std::max(milliseconds{1}, backoff_ * 2));
    // One line per second at most: under a flood of connections this repeats fast.
    ++unlogged_;
    auto now = clock::now();
    if (now - last_log_ >= std::chrono::seconds(1)) {
      log::write(log::level::warn, "accept failed; retrying",
                 {{"error", log::str(std::strerror(err))},
                  {"failures", log::num(static_cast<int64_t>(unlogged_))},
                  {"retry_ms", log::num(static_cast<int64_t>(backoff_.count()))}});
      last_log_ = now;
      unlogged_ = 0;
    }
    // Out of resources: wait before trying again, or the loop spins while the pending
    // connection stays in the backlog.
    if (kind == accept_failure::resources)
      return backoff_;
  }
  return milliseconds{0};
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
  // Streamed responses watch this (the library's is_running()) to end when the server
  // stops.
  svr_sock_ = INVALID_SOCKET;
  loop_->stop_accepting();
}

} // namespace ebuse
