// Crash safety: concurrent writers against the real binary, SIGKILL at random points,
// and after every restart each acknowledged write is there, exactly, with dense positions.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "reliability/child_server.hpp"
#include "reliability/crash_support.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* key = "crash-test-key";
constexpr int sub_ids = 3;

/// What the clients were told: acknowledged events by position, subscription positions.
struct ledger {
  std::mutex mtx;
  std::map<int64_t, std::string> events;  ///< position -> expected wire object
  int64_t sub_acked[sub_ids] = {};        ///< last 204 per subscription
  int64_t sub_sent[sub_ids] = {};         ///< last value sent (maybe committed)
  std::vector<std::string> problems;      ///< checked on the test thread
};

std::string event_data(int writer, int64_t n) {
  // Numbers and strings that a lossy store would garble; unique per (writer, n).
  return "{\"w\":" + std::to_string(writer) + ",\"n\":" + std::to_string(n)
         + ",\"f\":1.10,\"s\":\"\\u00e9\\n" + std::string(n % 97, 'x') + "\"}";
}

// Writer loop: single events (kind 0) or batches (kind 1) until `stop` or a dead server.
void write_events(int port, int writer, int kind, std::atomic<bool>& stop, ledger& led,
                  int64_t& counter) {
  auto cli = crash_client(port, key);
  std::mt19937 rng(static_cast<unsigned>(writer * 7919 + counter));
  while (!stop.load()) {
    if (kind == 0) {
      int64_t n = ++counter;
      auto body = "{\"type\":\"single\",\"data\":" + event_data(writer, n)
                  + ",\"timestamp\":\"2024-05-06T07:08:09.123456789+02:00\"}";
      auto r = cli->Post("/events", body, "application/json");
      if (!r)
        return; // killed: the outcome of this write is unknown
      if (r->status != 200) {
        std::lock_guard<std::mutex> g{led.mtx};
        led.problems.push_back("single: " + std::to_string(r->status) + " " + r->body);
        return;
      }
      auto reply = json::parse(r->body);
      std::lock_guard<std::mutex> g{led.mtx};
      led.events[reply["position"].get<int64_t>()] = reply.dump();
    } else {
      int size = 1 + static_cast<int>(rng() % 20);
      std::vector<std::string> sent;
      std::string body = "[";
      for (int i = 0; i < size; ++i) {
        int64_t n = ++counter;
        sent.push_back("{\"type\":\"batch\",\"data\":" + event_data(writer, n)
                       + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}");
        body += (i ? "," : "") + sent.back();
      }
      body += "]";
      auto r = cli->Post("/events/batch", body, "application/json");
      if (!r)
        return;
      if (r->status != 200) {
        std::lock_guard<std::mutex> g{led.mtx};
        led.problems.push_back("batch: " + std::to_string(r->status) + " " + r->body);
        return;
      }
      auto reply = json::parse(r->body);
      int64_t first = reply["first_position"];
      std::lock_guard<std::mutex> g{led.mtx};
      if (reply["saved"] != size || reply["last_position"] != first + size - 1)
        led.problems.push_back("batch reply: " + r->body);
      for (int i = 0; i < size; ++i) {
        auto ev = json::parse(sent[static_cast<size_t>(i)]);
        ev["position"] = first + i;
        led.events[first + i] = ev.dump();
      }
    }
  }
}

// Saves increasing positions for each subscription id in turn.
void save_subscriptions(int port, std::atomic<bool>& stop, ledger& led) {
  auto cli = crash_client(port, key);
  for (int i = 0; !stop.load(); i = (i + 1) % sub_ids) {
    int64_t value;
    {
      std::lock_guard<std::mutex> g{led.mtx};
      value = ++led.sub_sent[i];
    }
    auto body = "{\"position\":" + std::to_string(value) + "}";
    auto path = "/subscriptions/sub-" + std::to_string(i) + "/position";
    auto r = cli->Post(path.c_str(), body, "application/json");
    if (!r)
      return;
    std::lock_guard<std::mutex> g{led.mtx};
    if (r->status != 204)
      led.problems.push_back("subscription: " + std::to_string(r->status) + " " + r->body);
    else
      led.sub_acked[i] = value;
  }
}

// Opens the file the way an operator would after the crash and checks it.
void check_file(const std::string& db) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  auto text = [h](const char* q) {
    sqlite3_stmt* st = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(h, q, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  };
  CHECK(text("PRAGMA integrity_check") == "ok");
  // Dense: as many rows as the highest position.
  CHECK(text("SELECT COUNT(*) = COALESCE(MAX(position), 0) FROM events") == "1");
  sqlite3_close_v2(h);
}

// After a restart: every acknowledged event and subscription position is served.
void check_server(int port, ledger& led) {
  auto cli = crash_client(port, key);
  auto pos = cli->Get("/position");
  REQUIRE(pos);
  int64_t head = json::parse(pos->body)["position"];
  std::lock_guard<std::mutex> g{led.mtx};
  if (!led.events.empty())
    REQUIRE(head >= led.events.rbegin()->first);
  auto r = cli->Get(("/events?from=1&to=" + std::to_string(head)).c_str());
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto all = json::parse(r->body);
  REQUIRE(static_cast<int64_t>(all.size()) == head);
  int64_t gaps = 0;
  for (int64_t i = 0; i < head; ++i)
    gaps += all[static_cast<size_t>(i)]["position"] != i + 1;
  CHECK(gaps == 0);
  size_t mismatches = 0;
  for (const auto& [p, expected] : led.events)
    if (all[static_cast<size_t>(p - 1)].dump() != expected && ++mismatches < 5)
      FAIL_CHECK("position " << p << ": got " << all[static_cast<size_t>(p - 1)].dump()
                             << " expected " << expected);
  CHECK(mismatches == 0);
  for (int i = 0; i < sub_ids; ++i) {
    auto s = cli->Get(("/subscriptions/sub-" + std::to_string(i) + "/position").c_str());
    REQUIRE(s);
    int64_t v = json::parse(s->body)["position"];
    INFO("subscription sub-" << i);
    CHECK(v >= led.sub_acked[i]);
    CHECK(v <= led.sub_sent[i]);
  }
}

int rounds() {
  const char* env = std::getenv("CRASH_ROUNDS");
  return env ? std::atoi(env) : 24;
}

} // namespace

TEST_CASE("acknowledged writes survive SIGKILL at random moments", "[crash]") {
  temp_dir dir;
  auto db = dir.file("crash.db");
  ledger led;
  std::mt19937 rng(std::random_device{}());
  int64_t counters[4] = {0, 0, 0, 0};
  int n = rounds();
  for (int round = 0; round < n; ++round) {
    INFO("round " << round);
    child_server srv{crash_server_env(key, db)};
    REQUIRE(srv.port() > 0);
    check_server(srv.port(), led);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w)
      writers.emplace_back([&, w] {
        write_events(srv.port(), w, w == 3 ? 1 : w % 2, stop, led, counters[w]);
      });
    writers.emplace_back([&] { save_subscriptions(srv.port(), stop, led); });
    // Kill at a random point of the flow: after 0 to 399 more acknowledged events
    // (sometimes right away, mostly in full flow).
    auto acked = [&] {
      std::lock_guard<std::mutex> g{led.mtx};
      return led.events.size();
    };
    const auto target = acked() + rng() % 400;
    CHECK(eventually([&] { return acked() >= target; }, std::chrono::seconds(30)));
    srv.signal(SIGKILL);
    CHECK(srv.wait() == 128 + SIGKILL);
    stop = true;
    for (auto& t : writers)
      t.join();
    {
      std::lock_guard<std::mutex> g{led.mtx};
      for (auto& p : led.problems)
        FAIL_CHECK(p);
      led.problems.clear();
    }
    check_file(db);
  }
  child_server last{crash_server_env(key, db)};
  REQUIRE(last.port() > 0);
  check_server(last.port(), led);
  std::lock_guard<std::mutex> g{led.mtx};
  WARN("crash rounds: " << n << ", acknowledged events: " << led.events.size()
                        << ", subscription saves acknowledged: "
                        << led.sub_acked[0] + led.sub_acked[1] + led.sub_acked[2]);
  CHECK(led.events.size() > static_cast<size_t>(n));
}
