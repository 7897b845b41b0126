// Live-consumer load against a running server: (a) N long-polls on one tenant answered by
// one append, timed against the POST round trip; (b) F SSE followers under an append load,
// each checked to receive every event once and in order.
#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clk = std::chrono::steady_clock;

int port = 8080;
std::string key = "bench-key";

int connect_loopback() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void send_all(int fd, const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      std::perror("send");
      std::exit(1);
    }
    off += static_cast<size_t>(n);
  }
}

std::string request(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& extra = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: " + key
                  + "\r\n" + extra;
  if (!body.empty() || method == "POST")
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
         + "\r\n";
  return r + "\r\n" + body;
}

// Reads one Content-Length response on a keep-alive connection; returns its body.
std::string read_response(int fd) {
  std::string buf;
  char tmp[65536];
  for (;;) {
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      auto cl = buf.find("Content-Length: ");
      size_t len = cl == std::string::npos ? 0 : std::strtoul(buf.c_str() + cl + 16, nullptr, 10);
      if (buf.size() >= end + 4 + len)
        return buf.substr(end + 4, len);
    }
    auto n = ::recv(fd, tmp, sizeof tmp, 0);
    if (n <= 0) {
      std::fprintf(stderr, "connection closed\n");
      std::exit(1);
    }
    buf.append(tmp, static_cast<size_t>(n));
  }
}

int64_t head_position(int fd) {
  send_all(fd, request("GET", "/position", ""));
  auto body = read_response(fd);
  return std::strtoll(body.c_str() + body.find(':') + 1, nullptr, 10);
}

double pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

const std::string one_event = R"({"type":"bench.tick","data":{"n":1}})";

// A number the server's /metrics JSON gives under `name` (its first occurrence).
int64_t metric(int fd, const char* name) {
  send_all(fd, request("GET", "/metrics", ""));
  auto body = read_response(fd);
  auto at = body.find(std::string{"\""} + name + "\":");
  return at == std::string::npos ? -1 : std::strtoll(body.c_str() + at + std::strlen(name) + 3,
                                                     nullptr, 10);
}

// CPU time (ns) the threads of process `pid` have run (/proc/PID/task/*/schedstat), or
// -1 without a pid: a burst's cost that other load on the machine does not inflate.
int64_t process_cpu_ns(const char* pid) {
  if (!pid)
    return -1;
  std::string dir = std::string{"/proc/"} + pid + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return -1;
  int64_t total = 0;
  while (auto* e = ::readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    if (FILE* f = std::fopen((dir + "/" + e->d_name + "/schedstat").c_str(), "r")) {
      long long ns = 0;
      if (std::fscanf(f, "%lld", &ns) == 1)
        total += ns;
      std::fclose(f);
    }
  }
  ::closedir(d);
  return total;
}

int64_t own_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// (a) N long-polls parked on one tenant, one append, the time to each answer.
void longpolls(int n) {
  int ctl = connect_loopback();
  std::vector<double> rtt;
  for (int i = 0; i < 300; ++i) {
    auto t = clk::now();
    send_all(ctl, request("POST", "/events", one_event));
    read_response(ctl);
    rtt.push_back(std::chrono::duration<double, std::micro>(clk::now() - t).count());
  }
  int64_t head = head_position(ctl);
  int64_t threads_before = metric(ctl, "threads");
  std::vector<pollfd> fds(static_cast<size_t>(n));
  auto get = request("GET", "/events?from=" + std::to_string(head + 1) + "&wait=60s", "");
  for (auto& p : fds) {
    p.fd = connect_loopback();
    p.events = POLLIN;
    send_all(p.fd, get);
  }
  // Settle: every request read and waiting (none may answer before the append). A server
  // that parks shows them in /metrics; one that does not gets 2 s.
  auto settle = clk::now() + std::chrono::seconds(60);
  int64_t parked = 0;
  while ((parked = metric(ctl, "parked")) >= 0 && parked < n && clk::now() < settle)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (parked < 0)
    std::this_thread::sleep_for(std::chrono::seconds(2));
  int64_t threads_waiting = metric(ctl, "threads");
  if (::poll(fds.data(), fds.size(), 0) != 0) {
    std::fprintf(stderr, "a long-poll answered before the append\n");
    std::exit(1);
  }
  // epoll, so that the client's cost per answer does not grow with N (poll() would scan
  // every descriptor for each batch of answers).
  int ep = ::epoll_create1(0);
  for (size_t i = 0; i < fds.size(); ++i) {
    epoll_event ev{};
    // One-shot: an answered descriptor reports nothing more, without a removal per answer.
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &ev);
  }
  // SERVER_PID (optional): the server's CPU for the burst is reported too.
  const char* server_pid = std::getenv("SERVER_PID");
  int64_t server_cpu0 = process_cpu_ns(server_pid);
  int64_t own_cpu0 = own_cpu_ns();
  auto t0 = clk::now();
  send_all(ctl, request("POST", "/events", one_event));
  std::vector<double> answered;
  std::vector<epoll_event> ready(1024);
  char tmp[4096];
  while (answered.size() < fds.size()) {
    int k = ::epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 20000);
    if (k <= 0) {
      std::fprintf(stderr, "timed out with %zu of %d answered\n", answered.size(), n);
      std::exit(1);
    }
    auto now = clk::now();
    for (int j = 0; j < k; ++j) {
      // The first bytes of the answer; a long-poll answer is one small response.
      int fd = fds[ready[static_cast<size_t>(j)].data.u64].fd;
      ::recv(fd, tmp, sizeof tmp, 0);
      answered.push_back(std::chrono::duration<double, std::micro>(now - t0).count());
    }
  }
  int64_t own_cpu = own_cpu_ns() - own_cpu0;
  int64_t server_cpu = server_cpu0 < 0 ? -1 : process_cpu_ns(server_pid) - server_cpu0;
  ::close(ep);
  read_response(ctl);
  double base = pct(rtt, 0.5);
  std::printf("longpoll n=%d parked=%lld threads_before=%lld threads_waiting=%lld "
              "post_rtt_p50_us=%.0f answer_p50_us=%.0f answer_p99_us=%.0f "
              "answer_max_us=%.0f p99_over_rtt=%.1f client_cpu_us_per_answer=%.2f "
              "server_cpu_us_per_answer=%.2f\n",
              n, static_cast<long long>(parked), static_cast<long long>(threads_before),
              static_cast<long long>(threads_waiting), base, pct(answered, 0.5),
              pct(answered, 0.99), pct(answered, 1.0), pct(answered, 0.99) / base,
              static_cast<double>(own_cpu) / 1e3 / n,
              server_cpu < 0 ? -1.0 : static_cast<double>(server_cpu) / 1e3 / n);
  for (auto& p : fds)
    ::close(p.fd);
  ::close(ctl);
}

// One SSE follower's parse state: checks ids arrive as head+1, head+2, ...
struct sse_reader {
  int fd;
  int64_t expect;
  int64_t got = 0;
  int64_t bad = 0;
  std::string buf;

  void feed(const char* data, size_t len) {
    buf.append(data, len);
    size_t at = 0;
    for (;;) {
      auto nl = buf.find('\n', at);
      if (nl == std::string::npos)
        break;
      if (buf.compare(at, 4, "id: ") == 0) {
        auto id = std::strtoll(buf.c_str() + at + 4, nullptr, 10);
        if (id != expect)
          ++bad;
        expect = id + 1;
        ++got;
      }
      at = nl + 1;
    }
    buf.erase(0, at);
  }
};

// (b) F followers while appends run at `rate` events/s for `seconds`; true when every
// follower got every event exactly once, in order, within 10 s of the last append.
bool followers(int f, int rate, int seconds) {
  int ctl = connect_loopback();
  int64_t head = head_position(ctl);
  std::vector<sse_reader> rs;
  std::vector<pollfd> fds(static_cast<size_t>(f));
  auto get = request("GET", "/events/stream?from=" + std::to_string(head + 1) + "&follow=true",
                     "", "Accept: text/event-stream\r\n");
  for (auto& p : fds) {
    p.fd = connect_loopback();
    p.events = POLLIN;
    send_all(p.fd, get);
    rs.push_back({p.fd, head + 1, 0, 0, {}});
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int64_t total = static_cast<int64_t>(rate) * seconds;
  double write_s = 0;
  auto t0 = clk::now();
  double caught_up_s = 0;
  std::thread writer{[&] {
    int w = connect_loopback();
    constexpr int ticks_per_s = 100;
    int per_tick = std::max(1, rate / ticks_per_s);
    std::string batch = "[";
    for (int i = 0; i < per_tick; ++i)
      batch += (i ? "," : "") + one_event;
    batch += "]";
    auto start = clk::now();
    for (int64_t sent = 0, tick = 0; sent < total; sent += per_tick, ++tick) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * tick));
      send_all(w, request("POST", "/events/batch", batch));
      read_response(w);
    }
    write_s = std::chrono::duration<double>(clk::now() - start).count();
    ::close(w);
  }};
  auto deadline = clk::now() + std::chrono::seconds(seconds + 10);
  char tmp[65536];
  auto all_done = [&] {
    for (auto& r : rs)
      if (r.expect <= head + total)
        return false;
    return true;
  };
  while (!all_done() && clk::now() < deadline) {
    if (::poll(fds.data(), fds.size(), 200) <= 0)
      continue;
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents & POLLIN) {
        auto n = ::recv(fds[i].fd, tmp, sizeof tmp, 0);
        if (n > 0)
          rs[i].feed(tmp, static_cast<size_t>(n));
      }
  }
  caught_up_s = std::chrono::duration<double>(clk::now() - t0).count();
  writer.join();
  int64_t deliveries = 0, bad = 0, short_ = 0;
  for (auto& r : rs) {
    deliveries += r.got;
    bad += r.bad;
    short_ += r.got < total;
    ::close(r.fd);
  }
  ::close(ctl);
  // Sustained: the appends kept their rate (within 10%) and every follower had every
  // event within a second of the last append.
  bool ok = bad == 0 && short_ == 0 && write_s <= seconds * 1.1 && caught_up_s <= write_s + 1;
  std::printf("followers f=%d rate=%d/s seconds=%d events=%lld deliveries=%lld "
              "out_of_order=%lld incomplete_followers=%lld appends_s=%.2f all_delivered_s=%.2f "
              "product=%lld %s\n",
              f, rate, seconds, static_cast<long long>(total),
              static_cast<long long>(deliveries), static_cast<long long>(bad),
              static_cast<long long>(short_), write_s, caught_up_s,
              static_cast<long long>(f) * rate,
              ok ? "OK" : "FAILED");
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: live_bench PORT KEY longpoll N | followers F RATE SECONDS "
                         "[MAX_RATE]\n");
    return 2;
  }
  port = std::atoi(argv[1]);
  key = argv[2];
  std::string mode = argc > 3 ? argv[3] : "longpoll";
  if (mode == "longpoll") {
    longpolls(argc > 4 ? std::atoi(argv[4]) : 1000);
    return 0;
  }
  int f = argc > 4 ? std::atoi(argv[4]) : 200;
  int rate = argc > 5 ? std::atoi(argv[5]) : 1000;
  int seconds = argc > 6 ? std::atoi(argv[6]) : 5;
  int max_rate = argc > 7 ? std::atoi(argv[7]) : rate;
  bool ok = followers(f, rate, seconds);
  // Doubles the rate until a run fails or MAX_RATE: the highest product that held.
  int best = ok ? rate : 0;
  for (int r = rate * 2; ok && r <= max_rate; r *= 2)
    if ((ok = followers(f, r, seconds)))
      best = r;
  std::printf("highest sustained followers x rate: %lld\n", static_cast<long long>(f) * best);
  return best == rate || best > 0 ? 0 : 1;
}
