// Live consumers against the real binary: a follower resumes across SIGKILL with
// Last-Event-ID and misses or repeats nothing; SIGTERM answers 1,000 waiting long-polls.
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "reliability/child_server.hpp"
#include "reliability/crash_support.hpp"
#include "support/eventually.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* key = "live-kill-key";

// An SSE follower on a raw socket: complete messages are parsed, a message cut off by
// the server's death is left for the resumed follower.
struct sse_follower {
  std::unique_ptr<raw_socket> sock;
  std::string buffer;
  std::vector<std::pair<int64_t, std::string>> received; // id, data line

  void connect(int port, int64_t last_id) {
    sock = std::make_unique<raw_socket>(port);
    std::string req = "GET /events/stream?from=1&follow=true HTTP/1.1\r\nHost: x\r\n"
                      "X-API-Key: " + std::string{key} + "\r\nAccept: text/event-stream\r\n";
    if (last_id > 0)
      req += "Last-Event-ID: " + std::to_string(last_id) + "\r\n";
    sock->send(req + "\r\n");
    buffer.clear();
  }

  int64_t last_id() const {
    return received.empty() ? 0 : received.back().first;
  }

  // Reads for up to `step`; false once the connection is gone.
  bool pump(std::chrono::milliseconds step) {
    bool open = sock->read_for(step, buffer);
    auto body = buffer.find("\r\n\r\n");
    if (body == std::string::npos)
      return open;
    for (;;) {
      auto end = buffer.find("\n\n", body + 4);
      if (end == std::string::npos)
        break;
      parse(buffer.substr(body + 4, end - (body + 4)));
      buffer.erase(body + 4, end + 2 - (body + 4));
    }
    return open;
  }

  void parse(const std::string& msg) {
    auto id = msg.find("id: ");
    auto data = msg.find("data: ");
    if (id == std::string::npos || data == std::string::npos)
      return; // a heartbeat or the chunk framing of the response
    auto id_end = msg.find('\n', id);
    auto data_end = msg.find('\n', data);
    received.emplace_back(std::stoll(msg.substr(id + 4, id_end - id - 4)),
                          msg.substr(data + 6, data_end == std::string::npos
                                                 ? std::string::npos
                                                 : data_end - data - 6));
  }
};

// Appends numbered events until `stop` or a dead server; records acknowledged positions.
void append_until(int port, std::atomic<bool>& stop, std::atomic<int>& next,
                  std::map<int64_t, int>& acked, std::mutex& mtx) {
  auto cli = crash_client(port, key);
  while (!stop.load()) {
    int n = next.fetch_add(1);
    auto r = cli->Post("/events", "{\"type\":\"tick\",\"data\":{\"n\":" + std::to_string(n) + "}}",
                       "application/json");
    if (!r || r->status != 200)
      return;
    std::lock_guard<std::mutex> g{mtx};
    acked[json::parse(r->body)["position"].get<int64_t>()] = n;
  }
}

int64_t head_of(int port) {
  auto r = crash_client(port, key)->Get("/position");
  return r && r->status == 200 ? json::parse(r->body)["position"].get<int64_t>() : -1;
}

} // namespace

TEST_CASE("a follower resumes across SIGKILL with Last-Event-ID, missing and repeating nothing",
          "[crash][live]") {
  temp_dir dir;
  auto db = dir.file("live-kill.db");
  std::map<int64_t, int> acked;
  std::mutex mtx;
  std::atomic<int> next{1};
  sse_follower follower;
  {
    child_server srv{crash_server_env(key, db)};
    REQUIRE(srv.port() > 0);
    follower.connect(srv.port(), 0);
    std::atomic<bool> stop{false};
    std::thread writer{[&] { append_until(srv.port(), stop, next, acked, mtx); }};
    // Kill while the follower is in full flow.
    CHECK(eventually(
      [&] {
        follower.pump(20ms);
        return follower.received.size() >= 200;
      },
      30s));
    srv.signal(SIGKILL);
    CHECK(srv.wait() == 128 + SIGKILL);
    stop = true;
    writer.join();
    while (follower.pump(200ms)) {
    }
  }
  child_server srv{crash_server_env(key, db)};
  REQUIRE(srv.port() > 0);
  follower.connect(srv.port(), follower.last_id());
  std::atomic<bool> stop{false};
  std::thread writer{[&] { append_until(srv.port(), stop, next, acked, mtx); }};
  CHECK(eventually([&] { return head_of(srv.port()) >= follower.last_id() + 100; }, 30s));
  stop = true;
  writer.join();
  const int64_t head = head_of(srv.port());
  CHECK(eventually(
    [&] {
      follower.pump(20ms);
      return follower.last_id() >= head;
    },
    30s));
  // Positions 1..head, each once and in order, whatever the kill cut off.
  REQUIRE(static_cast<int64_t>(follower.received.size()) == head);
  std::lock_guard<std::mutex> g{mtx};
  for (int64_t i = 0; i < head; ++i) {
    const auto& [id, data] = follower.received[static_cast<size_t>(i)];
    REQUIRE(id == i + 1);
    auto ev = json::parse(data);
    CHECK(ev["position"] == id);
    if (auto a = acked.find(id); a != acked.end())
      CHECK(ev["data"]["n"] == a->second);
  }
  CHECK(acked.size() > 200);
}

TEST_CASE("SIGTERM answers 1,000 waiting long-polls at once and exits 0", "[crash][live]") {
  constexpr int waiters = 1000;
  temp_dir dir;
  // A waiting long-poll holds a worker until connections are served without threads.
  auto env = crash_server_env(key, dir.file("live-term.db"));
  for (auto& e : env)
    if (e.rfind("HTTP_THREADS=", 0) == 0)
      e = "HTTP_THREADS=1100";
  env.push_back("MAX_CONNS_PER_IP=0");
  child_server srv{env};
  REQUIRE(srv.port() > 0);
  std::vector<std::unique_ptr<raw_socket>> polls;
  const std::string req = "GET /events?from=1&wait=60s HTTP/1.1\r\nHost: x\r\nX-API-Key: "
                          + std::string{key} + "\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < waiters; ++i) {
    polls.push_back(std::make_unique<raw_socket>(srv.port()));
    REQUIRE(polls.back()->send(req));
  }
  auto cli = crash_client(srv.port(), key);
  auto waiting = [&] {
    auto r = cli->Get("/metrics");
    return r && r->status == 200 ? json::parse(r->body)["readers"]["waiting"].get<int64_t>() : -1;
  };
  REQUIRE(eventually([&] { return waiting() == waiters; }, 60s));
  const auto start = std::chrono::steady_clock::now();
  srv.signal(SIGTERM);
  int answered = 0;
  for (auto& p : polls) {
    auto text = p->read_all(30000ms);
    answered += text.rfind("HTTP/1.1 200", 0) == 0 && text.size() >= 3
                && text.compare(text.size() - 3, 3, "[]\n") == 0;
  }
  CHECK(answered == waiters);
  CHECK(srv.wait() == 0);
  // Well inside SHUTDOWN_TIMEOUT: the waiters did not hold up the stop.
  CHECK(std::chrono::steady_clock::now() - start < 20s);
}
