// Durable Streams under SIGKILL: acknowledged appends survive, and an idempotent producer's
// retry after the restart is written exactly once (its state commits with its data).
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "reliability/child_server.hpp"
#include "reliability/crash_support.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* key = "streams-crash-key";
constexpr int producers = 4;
constexpr const char* path = "/v1/stream/crash/log";

/// What producer `w` was told, and the append whose answer it never got.
struct producer_ledger {
  int64_t acked = -1;     ///< highest Producer-Seq answered 200 (or 204 on a retry)
  int64_t in_flight = -1; ///< sent, no answer: committed or not, unknown
  std::string problem;    ///< checked on the test thread
};

std::string body_of(int w, int64_t seq) {
  return "w" + std::to_string(w) + ":" + std::to_string(seq) + ";";
}

httplib::Result send(httplib::Client& cli, int w, int64_t seq) {
  httplib::Headers h{{"Producer-Id", "producer-" + std::to_string(w)},
                     {"Producer-Epoch", "0"},
                     {"Producer-Seq", std::to_string(seq)}};
  return cli.Post(path, h, body_of(w, seq), "text/plain");
}

// Appends answered 200 so far, all producers and rounds together: the kill point.
std::atomic<int64_t> acknowledged{0};

void produce(int port, int w, std::atomic<bool>& stop, producer_ledger& led) {
  auto cli = crash_client(port, key);
  while (!stop.load()) {
    int64_t seq = led.acked + 1;
    auto r = send(*cli, w, seq);
    if (!r) {
      led.in_flight = seq;
      return;
    }
    if (r->status != 200) {
      led.problem = "seq " + std::to_string(seq) + ": " + std::to_string(r->status);
      return;
    }
    led.acked = seq;
    acknowledged.fetch_add(1);
  }
}

// The whole stream, page by page.
std::string read_all(httplib::Client& cli) {
  std::string out;
  std::string offset = "-1";
  for (int pages = 0; pages < 10000; ++pages) {
    auto r = cli.Get((std::string{path} + "?offset=" + offset).c_str());
    REQUIRE(r);
    REQUIRE(r->status == 200);
    out += r->body;
    if (r->get_header_value("Stream-Up-To-Date") == "true")
      break;
    offset = r->get_header_value("Stream-Next-Offset");
  }
  return out;
}

// Each producer's appends in the stream, in order.
std::map<int, std::vector<int64_t>> appends_by_producer(const std::string& content) {
  std::map<int, std::vector<int64_t>> out;
  std::stringstream in{content};
  std::string item;
  while (std::getline(in, item, ';')) {
    auto colon = item.find(':');
    REQUIRE(item.size() > 1);
    REQUIRE(colon != std::string::npos);
    out[std::stoi(item.substr(1, colon - 1))].push_back(std::stoll(item.substr(colon + 1)));
  }
  return out;
}

// After a restart: the in-flight append of each producer is retried (200 when it was
// lost, 204 when it had committed), then every producer's appends are 0..acked, once.
struct retry_counts {
  int written = 0;   ///< lost by the kill, written by the retry (200)
  int duplicate = 0; ///< committed before the kill, recognised (204)
};

void settle_and_check(int port, std::vector<producer_ledger>& led, retry_counts& counts) {
  auto cli = crash_client(port, key);
  for (int w = 0; w < producers; ++w) {
    auto& l = led[static_cast<size_t>(w)];
    if (l.in_flight < 0)
      continue;
    auto r = send(*cli, w, l.in_flight);
    REQUIRE(r);
    INFO("producer " << w << " retry of seq " << l.in_flight);
    CHECK((r->status == 200 || r->status == 204));
    (r->status == 200 ? counts.written : counts.duplicate) += 1;
    l.acked = l.in_flight;
    l.in_flight = -1;
  }
  auto seen = appends_by_producer(read_all(*cli));
  for (int w = 0; w < producers; ++w) {
    INFO("producer " << w);
    const auto& got = seen[w];
    REQUIRE(static_cast<int64_t>(got.size()) == led[static_cast<size_t>(w)].acked + 1);
    for (size_t i = 0; i < got.size(); ++i)
      REQUIRE(got[i] == static_cast<int64_t>(i));
  }
}

int rounds() {
  const char* env = std::getenv("CRASH_ROUNDS");
  return env ? std::atoi(env) : 12;
}

} // namespace

TEST_CASE("stream appends survive SIGKILL; producer retries are exactly once",
          "[crash][streams]") {
  temp_dir dir;
  auto db = dir.file("streams-crash.db");
  std::vector<producer_ledger> led(producers);
  retry_counts retries;
  std::mt19937 rng(std::random_device{}());
  int n = rounds();
  for (int round = 0; round < n; ++round) {
    INFO("round " << round);
    child_server srv{crash_server_env(key, db)};
    REQUIRE(srv.port() > 0);
    if (round == 0) {
      auto r = crash_client(srv.port(), key)->Put(path, "", "text/plain");
      REQUIRE(r);
      REQUIRE(r->status == 201);
    }
    settle_and_check(srv.port(), led, retries);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < producers; ++w)
      threads.emplace_back([&, w] { produce(srv.port(), w, stop, led[static_cast<size_t>(w)]); });
    // Kill at a random point of the flow: after 0 to 399 more acknowledged appends
    // (sometimes right away, mostly in full flow).
    auto target = acknowledged.load() + static_cast<int64_t>(rng() % 400);
    CHECK(eventually([&] { return acknowledged.load() >= target; }, std::chrono::seconds(30)));
    srv.signal(SIGKILL);
    CHECK(srv.wait() == 128 + SIGKILL);
    stop = true;
    for (auto& t : threads)
      t.join();
    for (auto& l : led)
      CHECK(l.problem.empty());
  }
  child_server last{crash_server_env(key, db)};
  REQUIRE(last.port() > 0);
  settle_and_check(last.port(), led, retries);
  int64_t total = 0;
  for (auto& l : led)
    total += l.acked + 1;
  WARN("crash rounds: " << n << ", stream appends acknowledged: " << total
                        << ", retries after a kill: " << retries.written << " written, "
                        << retries.duplicate << " recognised as duplicates");
  CHECK(total > n);
}
