// A raw loopback TCP client for tests that misbehave on purpose (slow, idle clients).
#pragma once

#include <chrono>
#include <string>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ebuse::test {

/// A connected socket to 127.0.0.1:port; closed on destruction.
class raw_socket {
public:
  explicit raw_socket(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    int one = 1;
    if (fd_ >= 0)
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~raw_socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  bool connected() const {
    return fd_ >= 0;
  }

  /// Sends all of `s`; false when the peer is gone.
  bool send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      auto n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  /// Reads whatever arrives within `timeout` into `out`; returns false once the peer
  /// closed the connection (EOF or reset), true if it is still open at the deadline.
  bool read_for(std::chrono::milliseconds timeout, std::string& out) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now())
                    .count();
      if (left <= 0)
        return true;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0)
        continue;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return false;
      out.append(buf, static_cast<size_t>(n));
    }
  }

private:
  int fd_ = -1;
};

} // namespace ebuse::test
