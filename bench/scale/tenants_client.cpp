// Drives many tenants of one server: every tenant gets an append, a read and a position
// read, spread over client threads with keep-alive connections.
//
// Usage: tenants_client HOST PORT TENANTS THREADS ROUNDS
//   Keys are key-1 .. key-TENANTS (bench/scale/tenants.sh writes the matching file). Prints
//   `TENANTS requests=.. ok=.. non2xx=.. errors=.. seconds=.. by_status=503:n,.. first_failure=..`.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: %s HOST PORT TENANTS THREADS ROUNDS\n", argv[0]);
    return 2;
  }
  std::string host = argv[1];
  int port = std::atoi(argv[2]);
  int tenants = std::atoi(argv[3]);
  int threads = std::atoi(argv[4]);
  int rounds = std::atoi(argv[5]);
  std::atomic<long> requests{0}, ok{0}, non2xx{0}, errors{0};
  std::mutex mtx;
  std::string first_failure;
  std::map<int, long> failed_by_status;
  auto note = [&](const std::string& what, int status) {
    std::lock_guard<std::mutex> guard{mtx};
    if (status)
      ++failed_by_status[status];
    if (first_failure.empty())
      first_failure = what;
  };
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      httplib::Client cli{host, port};
      cli.set_keep_alive(true);
      cli.set_read_timeout(60);
      for (int r = 0; r < rounds; ++r) {
        for (int i = 1 + t; i <= tenants; i += threads) {
          httplib::Headers h{{"X-API-Key", "key-" + std::to_string(i)}};
          auto check = [&](const httplib::Result& res, const char* what) {
            ++requests;
            if (!res) {
              ++errors;
              note(std::string(what) + ": " + httplib::to_string(res.error()), 0);
            } else if (res->status / 100 != 2) {
              ++non2xx;
              note(std::string(what) + ": " + std::to_string(res->status) + " " + res->body,
                   res->status);
            } else {
              ++ok;
            }
          };
          check(cli.Post("/events", h, "{\"type\":\"scale\",\"data\":{\"round\":" +
                                         std::to_string(r) + "}}",
                         "application/json"),
                "append");
          check(cli.Get("/events?from=1", h), "read");
          check(cli.Get("/position", h), "position");
        }
      }
    });
  }
  for (auto& th : pool)
    th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string by_status;
  for (auto& [status, count] : failed_by_status)
    by_status += (by_status.empty() ? "" : ",") + std::to_string(status) + ":"
                 + std::to_string(count);
  std::printf("TENANTS requests=%ld ok=%ld non2xx=%ld errors=%ld seconds=%.1f by_status=%s "
              "first_failure=%s\n",
              requests.load(), ok.load(), non2xx.load(), errors.load(), secs,
              by_status.empty() ? "none" : by_status.c_str(),
              first_failure.empty() ? "none" : first_failure.c_str());
  return 0;
}
