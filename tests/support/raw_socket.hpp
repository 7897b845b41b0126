// Raw loopback TCP clients for tests that misbehave on purpose: arbitrary bytes, slow
// and idle clients, abrupt closes.
#pragma once

#include <chrono>
#include <string>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ebuse::test {

/// A blocking loopback connection, closed on destruction.
class raw_socket {
public:
  /// `rcvbuf`: when positive, the receive buffer asked for before connecting (a client
  /// that reads slowly fills the server's side sooner).
  explicit raw_socket(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    // Trickled bytes must leave at once, not wait for Nagle's algorithm.
    int one = 1;
    if (fd_ >= 0)
      ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~raw_socket() {
    close();
  }
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  int fd() const {
    return fd_;
  }

  bool ok() const {
    return fd_ >= 0;
  }

  bool connected() const {
    return ok();
  }

  /// Sends every byte; false when the peer is gone.
  bool send(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      auto n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  /// Reads until the peer closes, `limit` passes or `max` bytes arrived. `closed` tells
  /// whether the peer closed the connection.
  std::string read_all(std::chrono::milliseconds limit, bool& closed, size_t max = 1 << 24) {
    std::string out;
    closed = false;
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (out.size() < max) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      char buf[65536];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }

  /// Reads until `limit` passes or the peer closes.
  std::string read_all(std::chrono::milliseconds limit) {
    bool closed;
    return read_all(limit, closed);
  }

  /// Appends whatever arrives within `timeout` to `out`; false once the peer closed the
  /// connection (EOF or reset), true if it is still open at the deadline.
  bool read_for(std::chrono::milliseconds timeout, std::string& out) {
    bool closed;
    out += read_all(timeout, closed);
    return !closed;
  }

  /// Reads until `out` holds `count` whole responses with Content-Length bodies (or
  /// `limit` passes, or the peer closes); true once they are all there.
  bool read_responses(std::chrono::milliseconds limit, std::string& out, int count = 1) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (whole_responses(out) >= count)
        return true;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char buf[65536];
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0)
        return whole_responses(out) >= count;
      out.append(buf, static_cast<size_t>(n));
    }
  }

  /// How many whole responses (head and Content-Length body) `text` begins with.
  static int whole_responses(const std::string& text) {
    int n = 0;
    size_t at = 0;
    for (;;) {
      auto end = text.find("\r\n\r\n", at);
      if (end == std::string::npos)
        return n;
      auto cl = text.find("Content-Length: ", at);
      size_t body = 0;
      if (cl != std::string::npos && cl < end)
        body = std::stoul(text.substr(cl + 16, end - cl - 16));
      if (text.size() < end + 4 + body)
        return n;
      at = end + 4 + body;
      ++n;
    }
  }

  /// Closes with a reset instead of a FIN, as a crashed client's kernel would.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close();
  }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

/// Open file descriptors of process `pid`.
inline int open_fds(int pid) {
  auto path = "/proc/" + std::to_string(pid) + "/fd";
  int n = 0;
  if (DIR* d = ::opendir(path.c_str())) {
    while (::readdir(d))
      ++n;
    ::closedir(d);
  }
  return n - 2;
}

/// The status code of the first response in `raw`, or -1.
inline int status_of(const std::string& raw) {
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || raw.size() < 12)
    return -1;
  return std::stoi(raw.substr(9, 3));
}

/// How many responses `raw` holds.
inline int count_responses(const std::string& raw) {
  int n = 0;
  for (size_t p = raw.find("HTTP/1.1 "); p != std::string::npos; p = raw.find("HTTP/1.1 ", p + 1))
    ++n;
  return n;
}

} // namespace ebuse::test
