// Helpers of the tests of requests parked in the event loop: raw requests, many waiting
// clients, and the loop's figures.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/test_server.hpp"

namespace ebuse::test {

/// A small worker pool, so that a test shows waiting requests hold none of it.
inline server_config loop_config(int threads = 4) {
  auto cfg = quiet_config();
  cfg.http_threads = threads;
  cfg.max_conns_per_ip = 0;
  return cfg;
}

/// A GET with the test key (and `extra` header lines), as raw bytes.
inline std::string raw_get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n" + extra + "\r\n";
}

/// Requests parked in the loop now, as /metrics shows them (-1 if it did not answer).
inline int parked_conns(httplib::Client& cli) {
  auto r = get(cli, "/metrics");
  if (r.status != 200)
    return -1;
  return nlohmann::json::parse(r.body)["http"]["connections"]["parked"].get<int>();
}

/// One figure of /metrics' "http.connections" (-1 if it did not answer).
inline int64_t connection_figure(httplib::Client& cli, const char* name) {
  auto r = get(cli, "/metrics");
  if (r.status != 200)
    return -1;
  return nlohmann::json::parse(r.body)["http"]["connections"][name].get<int64_t>();
}

/// `n` connections, each sending `bytes`.
inline std::vector<std::unique_ptr<raw_socket>> send_on_many(int port, int n,
                                                             const std::string& bytes) {
  std::vector<std::unique_ptr<raw_socket>> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(std::make_unique<raw_socket>(port));
    out.back()->send(bytes);
  }
  return out;
}

/// Stops the server's HTTP side from another thread while `polls` wait, reads each one's
/// answer (20 s at most) and returns how many `ok(raw)` accepts; `took` is how long the
/// answers took from the stop.
template <typename Ok>
int answered_at_stop(test_server& srv, std::vector<std::unique_ptr<raw_socket>>& polls, Ok ok,
                     std::chrono::steady_clock::duration& took) {
  using namespace std::chrono_literals;
  auto start = std::chrono::steady_clock::now();
  std::thread stopper{[&] { srv.stop_http(); }};
  int answered = 0;
  for (auto& s : polls) {
    std::string raw;
    if (s->read_responses(20s, raw) && ok(raw))
      ++answered;
  }
  stopper.join();
  took = std::chrono::steady_clock::now() - start;
  return answered;
}

/// Appends one event of `type` with an empty object as data.
inline reply post_event(httplib::Client& cli, const std::string& type) {
  return post(cli, "/events", event_body(type, "{}"));
}

/// The body of the only response in `raw`.
inline std::string body_of(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? std::string{} : raw.substr(end + 4);
}

} // namespace ebuse::test
