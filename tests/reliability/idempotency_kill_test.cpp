// Idempotency keys across SIGKILL: acknowledged keys replay after a restart, and retrying
// every key whose answer was lost in the kill writes each append exactly once.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "reliability/child_server.hpp"
#include "reliability/crash_support.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using json = nlohmann::json;

namespace {

constexpr const char* api_key = "idem-kill-key";

// Key i's request: a single event without timestamp (the server sets it, so a replay
// shows whether the first response came back) or a batch of three.
std::string body_of(int i) {
  std::string ev = "{\"type\":\"k\",\"data\":{\"i\":" + std::to_string(i) + "}}";
  return i % 2 ? "[" + ev + "," + ev + "," + ev + "]" : ev;
}

const char* path_of(int i) {
  return i % 2 ? "/events/batch" : "/events";
}

httplib::Result send(httplib::Client& cli, int i) {
  httplib::Headers h{{"Idempotency-Key", "key-" + std::to_string(i)}};
  return cli.Post(path_of(i), h, body_of(i), "application/json");
}

} // namespace

TEST_CASE("idempotency keys survive kill -9: replays after restart, lost answers retried once") {
  temp_dir dir;
  auto db = dir.file("idem.db");
  std::mutex mtx;
  std::map<int, std::string> acked; // key index -> first response body
  std::atomic<int> sent{0};
  {
    child_server server{crash_server_env(api_key, db)};
    REQUIRE(server.port() > 0);
    std::atomic<bool> dead{false};
    // Joined on every path, before the server's destructor kills it: a failed REQUIRE
    // must not leave a joinable thread (terminate) and a live server behind.
    struct joiner {
      std::atomic<bool>& dead;
      std::thread t;
      ~joiner() {
        dead.store(true);
        if (t.joinable())
          t.join();
      }
    } writer{dead, std::thread{[&] {
      auto cli = crash_client(server.port(), api_key);
      for (int i = 0; i < 100000 && !dead.load(); ++i) {
        sent.store(i + 1);
        auto r = send(*cli, i);
        if (!r)
          return; // killed: this key's outcome is unknown
        if (r->status != 200)
          return;
        std::lock_guard<std::mutex> g{mtx};
        acked[i] = r->body;
      }
    }}};
    REQUIRE(eventually(
      [&] {
        std::lock_guard<std::mutex> g{mtx};
        return acked.size() >= 200;
      },
      std::chrono::seconds(30)));
    server.signal(SIGKILL);
    server.wait();
  }
  child_server server{crash_server_env(api_key, db)};
  REQUIRE(server.port() > 0);
  auto cli = crash_client(server.port(), api_key);
  // Every key again: an acknowledged one replays its response byte for byte; one whose
  // answer was lost is either replayed or applied now, never twice.
  for (int i = 0; i < sent.load(); ++i) {
    INFO("key " << i);
    auto r = send(*cli, i);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    auto known = acked.find(i);
    if (known != acked.end()) {
      CHECK(r->body == known->second);
      CHECK(r->get_header_value("Idempotent-Replayed") == "true");
    }
  }
  auto events = cli->Get("/events?from=0");
  REQUIRE(events);
  REQUIRE(events->status == 200);
  auto list = json::parse(events->body);
  std::map<int, int> copies;
  int64_t expected_position = 1;
  for (auto& e : list) {
    CHECK(e["position"] == expected_position++);
    ++copies[e["data"]["i"].get<int>()];
  }
  REQUIRE(copies.size() == static_cast<std::size_t>(sent.load()));
  for (auto& [i, n] : copies) {
    INFO("key " << i);
    CHECK(n == (i % 2 ? 3 : 1));
  }
  // And a key with another body is still refused.
  httplib::Headers h{{"Idempotency-Key", "key-0"}};
  auto reuse = cli->Post("/events", h, body_of(2), "application/json");
  REQUIRE(reuse);
  CHECK(reuse->status == 422);
}
