// The open-tenant budget (MAX_OPEN_TENANTS): idle tenants stopped to make room and reopened.
#include <future>
#include <map>
#include <thread>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> names_of(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("t" + std::to_string(i));
  return out;
}

registry_options budgeted(const temp_dir& dir, int tenants, int64_t max_open,
                          std::chrono::nanoseconds room_wait = 5s) {
  auto ropts = tenants_in(dir, names_of(tenants), {"admin-key"});
  ropts.max_open_tenants = max_open;
  ropts.room_wait = room_wait;
  return ropts;
}

httplib::Headers idem(const std::string& key) {
  return {{"Idempotency-Key", key}};
}

// The running instance of tenant `name`, or null.
std::shared_ptr<tenant> running(const test_server& srv, const std::string& name) {
  for (auto& t : srv.registry()->running())
    if (t->name() == name)
      return t;
  return nullptr;
}

// A GET on its own client and thread, for a request that waits.
std::future<reply> get_async(const test_server& srv, const std::string& key, std::string path) {
  return std::async(std::launch::async,
                    [&srv, key, path] { return get(*client_for(srv, key), path); });
}

} // namespace

TEST_CASE("ten tenants over a budget of three: rounds of appends and reads stay intact",
          "[http][budget][sqlite]") {
  temp_dir dir;
  test_server srv{budgeted(dir, 10, 3), quiet_config()};
  const int tenants = 10;
  const int rounds = 4;
  std::map<std::string, std::string> first_reply;
  int64_t peak_open = 0;
  for (int round = 0; round < rounds; ++round) {
    for (auto& name : names_of(tenants)) {
      INFO(name << " round " << round);
      auto cli = client_for(srv, "key-" + name);
      auto r = post(*cli, "/events", event_body("e", std::to_string(round)),
                    idem("k-" + std::to_string(round)));
      REQUIRE(r.status == 200);
      CHECK(json::parse(r.body)["position"] == round + 1);
      if (round == 0) {
        first_reply[name] = r.body;
        REQUIRE(post(*cli, "/subscriptions/s/position", R"({"position":1})").status == 204);
      }
      auto events = parse_array(get(*cli, "/events?from=0").body);
      REQUIRE(events.size() == static_cast<std::size_t>(round + 1));
      CHECK(events.back()["data"] == round);
      peak_open = std::max(peak_open, srv.registry()->stats().open.load());
    }
  }
  CHECK(peak_open <= 3);
  // Every tenant was stopped and reopened several times; what it committed before holds.
  CHECK(srv.registry()->stats().budget_stops.load() >= (rounds - 1) * (tenants - 3));
  for (auto& name : names_of(tenants)) {
    INFO(name);
    auto cli = client_for(srv, "key-" + name);
    auto replay = post(*cli, "/events", event_body("e", "0"), idem("k-0"));
    CHECK(replay.status == 200);
    CHECK(replay.body == first_reply[name]);
    CHECK(replay.header("Idempotent-Replayed") == "true");
    CHECK(get(*cli, "/position").body == "{\"position\":" + std::to_string(rounds) + "}\n");
    CHECK(get(*cli, "/subscriptions/s/position").body == "{\"position\":1}\n");
  }
  auto m = json::parse(get(*client_for(srv, "admin-key"), "/metrics").body)["registry"];
  CHECK(m["max_open"] == 3);
  CHECK(m["open"].get<int64_t>() <= 3);
  CHECK(m["budget_stops"].get<int64_t>() >= (rounds - 1) * (tenants - 3));
  CHECK(m["budget_waits"].get<int64_t>() >= m["budget_stops"].get<int64_t>());
  CHECK(m["budget_refusals"] == 0);
  auto prom = get(*client_for(srv, "admin-key"), "/metrics/prometheus").body;
  CHECK(prom.find("ebuse_tenants_open_budget 3") != std::string::npos);
  CHECK(prom.find("ebuse_tenant_budget_stops_total ") != std::string::npos);
}

TEST_CASE("a tenant with a waiting long-poll is not stopped to make room",
          "[http][budget][sqlite]") {
  temp_dir dir;
  test_server srv{budgeted(dir, 6, 2), quiet_config()};
  auto a = client_for(srv, "key-t0");
  REQUIRE(post(*a, "/events", event_body("first", "1")).status == 200);
  auto poll = get_async(srv, "key-t0", "/events?from=2&wait=50s");
  auto waiting = [&] {
    auto t = running(srv, "t0");
    return t && t->stats().events_waiting.load() == 1;
  };
  REQUIRE(eventually(waiting));
  auto instance = running(srv, "t0");
  // Four other tenants pass through the one remaining place.
  for (int round = 0; round < 2; ++round)
    for (int i = 1; i < 6; ++i) {
      INFO("t" << i);
      auto r = post(*client_for(srv, "key-t" + std::to_string(i)), "/events",
                    event_body("other", "2"));
      REQUIRE(r.status == 200);
    }
  CHECK(srv.registry()->stats().budget_stops.load() >= 4);
  CHECK(running(srv, "t0") == instance);
  REQUIRE(post(*a, "/events", event_body("second", "2")).status == 200);
  auto r = poll.get();
  REQUIRE(r.status == 200);
  auto events = parse_array(r.body);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["position"] == 2);
  CHECK(events[0]["type"] == "second");
}

TEST_CASE("with every open tenant busy, a request for another gets 503 overloaded",
          "[http][budget][sqlite]") {
  temp_dir dir;
  test_server srv{budgeted(dir, 2, 1, 200ms), quiet_config()};
  auto a = client_for(srv, "key-t0");
  auto poll = get_async(srv, "key-t0", "/events?from=1&wait=50s");
  REQUIRE(eventually([&] {
    auto t = running(srv, "t0");
    return t && t->stats().events_waiting.load() == 1;
  }));
  auto refused = get(*client_for(srv, "key-t1"), "/position");
  check_error(refused, 503, "overloaded");
  CHECK(refused.header("Retry-After") == "1");
  CHECK(srv.registry()->stats().budget_refusals.load() == 1);
  // Once the long-poll is answered, t0 is idle and makes room.
  REQUIRE(post(*a, "/events", event_body("wake", "1")).status == 200);
  CHECK(poll.get().status == 200);
  CHECK(get(*client_for(srv, "key-t1"), "/position").body == "{\"position\":0}\n");
}

TEST_CASE("eviction under concurrent load keeps every append", "[http][budget][sqlite]") {
  temp_dir dir;
  const int tenants = 10;
  test_server srv{budgeted(dir, tenants, 3), quiet_config()};
  const int threads = 6;
  const int per_thread = 30;
  std::vector<std::vector<int>> statuses(threads);
  std::vector<std::thread> pool;
  for (int w = 0; w < threads; ++w)
    pool.emplace_back([&, w] {
      for (int i = 0; i < per_thread; ++i) {
        auto name = "t" + std::to_string((w * 7 + i) % tenants);
        auto cli = client_for(srv, "key-" + name);
        auto r = post(*cli, "/events", event_body("c", std::to_string(w)));
        statuses[w].push_back(r.status);
        statuses[w].push_back(get(*cli, "/events?from=0").status);
      }
    });
  for (auto& t : pool)
    t.join();
  std::map<int, int> by_status;
  for (auto& list : statuses)
    for (int s : list)
      ++by_status[s];
  CHECK(by_status[200] == threads * per_thread * 2);
  CHECK(by_status.size() == 1);
  std::map<std::string, int64_t> sent;
  for (int w = 0; w < threads; ++w)
    for (int i = 0; i < per_thread; ++i)
      ++sent["t" + std::to_string((w * 7 + i) % tenants)];
  int64_t total = 0;
  for (auto& [name, count] : sent) {
    INFO(name);
    auto head = json::parse(get(*client_for(srv, "key-" + name), "/position").body)["position"];
    CHECK(head == count);
    total += head.get<int64_t>();
  }
  CHECK(total == threads * per_thread);
  CHECK(srv.registry()->stats().budget_stops.load() > 0);
  CHECK(srv.registry()->stats().open.load() <= 3);
}
