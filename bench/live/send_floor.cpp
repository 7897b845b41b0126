// The kernel's floor for a burst of long-poll answers: N loopback TCP connections, one
// small response sent on each (from one or two threads) and read by an epoll client, with
// no server code in between.
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

double thread_cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// Sends `msg` on srv[from, to) without waiting; returns the thread's CPU time for it.
double send_range(const std::vector<int>& srv, std::size_t from, std::size_t to,
                  const std::string& msg) {
  double c0 = thread_cpu_us();
  for (std::size_t i = from; i < to; ++i)
    ::send(srv[i], msg.data(), msg.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  return thread_cpu_us() - c0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: send_floor N [BYTES] [SENDER_THREADS] [ROUNDS]\n");
    return 2;
  }
  std::size_t n = static_cast<std::size_t>(std::atoi(argv[1]));
  std::size_t bytes = argc > 2 ? static_cast<std::size_t>(std::atoi(argv[2])) : 400;
  int threads = argc > 3 ? std::atoi(argv[3]) : 1;
  int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
  int l = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 4096) != 0
      || ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    std::perror("listen");
    return 1;
  }
  std::vector<int> cli(n), srv(n);
  int one = 1;
  for (std::size_t i = 0; i < n; ++i) {
    cli[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    ::setsockopt(cli[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(cli[i], reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::perror("connect");
      return 1;
    }
    srv[i] = ::accept(l, nullptr, nullptr);
    ::setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A request first, as a long-poll sends before its answer.
    char req[] = "GET / HTTP/1.1\r\n\r\n";
    char tmp[64];
    ::send(cli[i], req, sizeof req - 1, 0);
    ::recv(srv[i], tmp, sizeof tmp, 0);
  }
  std::string msg(bytes, 'x');
  for (int r = 0; r < rounds; ++r) {
    int ep = ::epoll_create1(0);
    for (std::size_t i = 0; i < n; ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLONESHOT;
      ev.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &ev);
    }
    double client_cpu = 0;
    std::thread reader{[&] {
      double c0 = thread_cpu_us();
      std::vector<epoll_event> ready(1024);
      char tmp[4096];
      for (std::size_t got = 0; got < n;) {
        int k = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 5000);
        if (k <= 0)
          break;
        for (int j = 0; j < k; ++j)
          ::recv(cli[ready[static_cast<std::size_t>(j)].data.u64], tmp, sizeof tmp, 0);
        got += static_cast<std::size_t>(k);
      }
      client_cpu = thread_cpu_us() - c0;
    }};
    auto t0 = clk::now();
    double send_cpu = 0;
    if (threads <= 1) {
      send_cpu = send_range(srv, 0, n, msg);
    } else {
      double other = 0;
      std::thread second{[&] { other = send_range(srv, n / 2, n, msg); }};
      send_cpu = send_range(srv, 0, n / 2, msg);
      second.join();
      send_cpu += other;
    }
    reader.join();
    auto all = std::chrono::duration<double, std::milli>(clk::now() - t0).count();
    std::printf("n=%zu bytes=%zu sender_threads=%d send_cpu_us_per_answer=%.2f "
                "client_cpu_us_per_answer=%.2f all_read_ms=%.2f\n",
                n, bytes, threads, send_cpu / static_cast<double>(n),
                client_cpu / static_cast<double>(n), all);
    ::close(ep);
  }
  for (std::size_t i = 0; i < n; ++i) {
    ::close(cli[i]);
    ::close(srv[i]);
  }
  ::close(l);
}
