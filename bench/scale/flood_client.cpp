// Holds many hostile or idle connections open against a server and measures how fast a new
// client is still served: trickling heads, idle keep-alive connections, fresh-client probes.
//
// Usage: flood_client HOST PORT KEY TRICKLE IDLE SECONDS
//   TRICKLE connections send a request head one byte per second and never finish it (one
//   that the server cuts is reopened); IDLE connections make one GET /position and then stay
//   open and silent. Meanwhile a fresh client connects, sends GET /position and reads the
//   answer every 20 ms. Prints one line: `FLOOD trickle_open=.. idle_open=.. probes=..
//   probe_errors=.. p50_ms=.. p99_ms=.. max_ms=..`.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;

sockaddr_in address(const char* host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host, &a.sin_addr);
  return a;
}

int connect_to(const sockaddr_in& a) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Reads one response with Content-Length; false on error or timeout.
bool read_response(int fd, int timeout_ms) {
  std::string buf;
  char tmp[4096];
  auto deadline = clock_type::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto head_end = buf.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      auto cl = buf.find("Content-Length: ");
      size_t len = cl == std::string::npos ? 0 : std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      if (buf.size() >= head_end + 4 + len)
        return buf.compare(0, 12, "HTTP/1.1 200") == 0;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    auto n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

std::string position_request(const std::string& key) {
  return "GET /position HTTP/1.1\r\nHost: bench\r\nX-API-Key: " + key + "\r\n\r\n";
}

struct trickler {
  int fd = -1;
  size_t sent = 0;
};

} // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT KEY TRICKLE IDLE SECONDS\n", argv[0]);
    return 2;
  }
  auto addr = address(argv[1], std::atoi(argv[2]));
  std::string key = argv[3];
  int trickle_n = std::atoi(argv[4]);
  int idle_n = std::atoi(argv[5]);
  int seconds = std::atoi(argv[6]);
  const std::string req = position_request(key);
  // A head that is never finished: the same request line and headers, with one more
  // header whose bytes arrive one per second.
  const std::string slow_head = "GET /position HTTP/1.1\r\nHost: bench\r\nX-Slow: "
                                + std::string(4096, 'a');

  std::vector<int> idle;
  for (int i = 0; i < idle_n; ++i) {
    int fd = connect_to(addr);
    if (fd < 0)
      break;
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())
        || !read_response(fd, 10000)) {
      ::close(fd);
      continue;
    }
    idle.push_back(fd);
  }
  std::vector<trickler> trick(static_cast<size_t>(trickle_n));
  std::atomic<bool> stop{false};
  std::atomic<int> trickle_open{0};
  std::thread trickle_thread{[&] {
    while (!stop.load()) {
      int open = 0;
      for (auto& t : trick) {
        if (t.fd < 0) {
          t.fd = connect_to(addr);
          t.sent = 0;
          if (t.fd < 0)
            continue;
        }
        char c = slow_head[std::min(t.sent, slow_head.size() - 1)];
        if (::send(t.fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
          ::close(t.fd);
          t.fd = -1;
          continue;
        }
        ++t.sent;
        ++open;
      }
      trickle_open.store(open);
      for (int i = 0; i < 10 && !stop.load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }};

  // Established: the script starts its load now.
  while (trickle_open.load() == 0 && trickle_n > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::printf("READY idle=%zu\n", idle.size());
  std::fflush(stdout);

  std::vector<double> lat;
  int errors = 0;
  auto end = clock_type::now() + std::chrono::seconds(seconds);
  while (clock_type::now() < end) {
    auto t0 = clock_type::now();
    int fd = connect_to(addr);
    bool ok = fd >= 0
              && ::send(fd, req.data(), req.size(), MSG_NOSIGNAL)
                   == static_cast<ssize_t>(req.size())
              && read_response(fd, 5000);
    if (fd >= 0)
      ::close(fd);
    if (ok)
      lat.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
    else
      ++errors;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop.store(true);
  trickle_thread.join();
  // Idle connections the server closed meanwhile read as end of stream.
  int idle_open = 0;
  for (int fd : idle) {
    char c;
    auto n = ::recv(fd, &c, 1, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      ++idle_open;
    ::close(fd);
  }
  for (auto& t : trick)
    if (t.fd >= 0)
      ::close(t.fd);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))];
  };
  std::printf("FLOOD trickle_open=%d idle_open=%d probes=%zu probe_errors=%d p50_ms=%.2f "
              "p99_ms=%.2f max_ms=%.2f\n",
              trickle_open.load(), idle_open, lat.size(), errors, pct(0.5), pct(0.99),
              lat.empty() ? 0.0 : lat.back());
  return 0;
}
