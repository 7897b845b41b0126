// Real ebuse nodes (server processes) on one PostgreSQL: several nodes, kill -9, restarts.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "pg/pg_fixture.hpp"
#include "reliability/child_server.hpp"
#include "support/eventually.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using json = nlohmann::json;

namespace {

constexpr const char* node_key = "node-key";

// A node serving tenant `default` from `url`.
std::vector<std::string> node_env(const std::string& url) {
  return {"STORAGE=postgres", "DATABASE_URL=" + url, std::string{"API_KEY="} + node_key,
          "HOST=127.0.0.1",   "PORT=0",              "RATE_LIMIT=0",
          "LOG_LEVEL=info"};
}

httplib::Client client_of(int port) {
  httplib::Client c{"127.0.0.1", port};
  c.set_default_headers({{"X-API-Key", node_key}});
  c.set_connection_timeout(2);
  c.set_read_timeout(10);
  return c;
}

// An acknowledged event: who sent it and the position it was given.
struct acked {
  std::string data;
  int64_t position;
};

// Appends single events tagged `tag` to the node at `port` until `stop` (or `max`
// attempts); records every acknowledged one (read by others only after the loop ends;
// `count` follows it meanwhile) and counts refusals by status.
void append_loop(int port, const std::string& tag, std::atomic<bool>& stop, int max,
                 std::vector<acked>& out, std::map<int, int>& refusals,
                 std::atomic<std::size_t>* count = nullptr) {
  auto c = client_of(port);
  for (int i = 0; i < max && !stop.load(); ++i) {
    std::string data = "{\"tag\":\"" + tag + "\",\"i\":" + std::to_string(i) + "}";
    auto res = c.Post("/events", "{\"type\":\"t\",\"data\":" + data + "}", "application/json");
    if (res && res->status == 200) {
      out.push_back({data, json::parse(res->body)["position"].get<int64_t>()});
      if (count)
        count->fetch_add(1);
    } else
      ++refusals[res ? res->status : 0];
  }
}

// Every event of the tenant, read from the node at `port`, by position.
std::map<int64_t, std::string> read_all(int port) {
  auto c = client_of(port);
  auto res = c.Get("/events?from=1");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  std::map<int64_t, std::string> out;
  for (const auto& ev : json::parse(res->body))
    out[ev["position"].get<int64_t>()] = ev["data"].dump();
  return out;
}

// Positions 1..N without a gap, and every acknowledged event at its position.
void check_log(const std::map<int64_t, std::string>& log, const std::vector<acked>& acks) {
  int64_t expect = 1;
  for (const auto& [pos, data] : log)
    REQUIRE(pos == expect++);
  for (const auto& a : acks) {
    auto i = log.find(a.position);
    REQUIRE(i != log.end());
    CHECK(i->second == json::parse(a.data).dump());
  }
}

} // namespace

TEST_CASE("pg nodes: two nodes append to one tenant at once: dense positions, nothing lost") {
  auto url = fresh_pg_database();
  child_server a{node_env(url)};
  child_server b{node_env(url)};
  REQUIRE(a.port() > 0);
  REQUIRE(b.port() > 0);
  std::atomic<bool> stop{false};
  constexpr int per_client = 150;
  std::vector<std::vector<acked>> acks(4);
  std::vector<std::map<int, int>> refusals(4);
  std::vector<std::thread> clients;
  for (int k = 0; k < 4; ++k)
    clients.emplace_back([&, k] {
      append_loop(k % 2 ? b.port() : a.port(), "c" + std::to_string(k), stop, per_client,
                  acks[k], refusals[k]);
    });
  for (auto& t : clients)
    t.join();
  std::vector<acked> all;
  for (int k = 0; k < 4; ++k) {
    CHECK(refusals[k].empty());
    all.insert(all.end(), acks[k].begin(), acks[k].end());
  }
  REQUIRE(all.size() == 4 * per_client);
  auto log = read_all(a.port());
  CHECK(log.size() == all.size());
  check_log(log, all);
  CHECK(read_all(b.port()) == log);
}

TEST_CASE("pg nodes: a commit on one node wakes the other: its head follows at once") {
  auto url = fresh_pg_database();
  child_server a{node_env(url)};
  child_server b{node_env(url)};
  auto ca = client_of(a.port());
  auto cb = client_of(b.port());
  auto head_of = [](httplib::Client& c) {
    auto res = c.Get("/position");
    return res && res->status == 200 ? json::parse(res->body)["position"].get<int64_t>() : -1;
  };
  REQUIRE(head_of(cb) == 0);
  for (int i = 0; i < 3; ++i) {
    auto res = ca.Post("/events/batch", R"([{"type":"t","data":1},{"type":"t","data":2}])",
                       "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    // GET /position is answered from the node's memory: only the announcement of A's
    // commit (LISTEN/NOTIFY) moves it, well before B's 10 s storage probe.
    int64_t expect = 2 * (i + 1);
    CHECK(eventually([&] { return head_of(cb) == expect; }, std::chrono::seconds(3)));
  }
}

TEST_CASE("pg nodes: kill -9 of a node under load loses no acknowledged event") {
  auto url = fresh_pg_database();
  std::vector<acked> acks;
  std::map<int, int> refusals;
  {
    child_server a{node_env(url)};
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> count{0};
    std::thread load{[&] { append_loop(a.port(), "k", stop, 20000, acks, refusals, &count); }};
    // Killed mid-stream, once a fair number of appends were acknowledged.
    bool loaded = eventually([&] { return count.load() >= 200; }, std::chrono::seconds(30));
    a.signal(SIGKILL);
    load.join();
    REQUIRE(loaded);
    CHECK(a.wait() == 128 + SIGKILL);
  }
  child_server b{node_env(url)};
  auto log = read_all(b.port());
  CHECK(log.size() >= acks.size());
  check_log(log, acks);
}

TEST_CASE("pg nodes: PostgreSQL restarted under load: 503 while down, then appends succeed") {
  pg_cluster cluster;
  auto url = fresh_pg_database(cluster);
  child_server a{node_env(url)};
  std::vector<acked> acks;
  std::map<int, int> refusals;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> count{0};
  std::thread load{[&] { append_loop(a.port(), "r", stop, 50000, acks, refusals, &count); }};
  bool loaded = eventually([&] { return count.load() >= 50; }, std::chrono::seconds(30));
  if (!loaded) {
    stop = true;
    load.join();
    FAIL("no appends acknowledged before the restart");
  }
  cluster.stop();
  // While PostgreSQL is down, requests of the tenant answer 503 storage_unavailable.
  auto c = client_of(a.port());
  auto down = c.Post("/events", R"({"type":"t","data":0})", "application/json");
  REQUIRE(down);
  CHECK(down->status == 503);
  CHECK(down->body.find("storage_unavailable") != std::string::npos);
  cluster.start();
  // The node reconnects by itself: the load's appends are acknowledged again.
  auto before = count.load();
  bool recovered = eventually([&] { return count.load() >= before + 50; },
                              std::chrono::seconds(30));
  stop = true;
  load.join();
  CHECK(recovered);
  CHECK(refusals.count(503) == 1);
  auto log = read_all(a.port());
  check_log(log, acks);
}

TEST_CASE("pg nodes: subscription positions are shared; SQLite-only routes answer 501") {
  auto url = fresh_pg_database();
  auto env = node_env(url);
  env.push_back("ADMIN_API_KEY=admin-key");
  child_server a{env};
  child_server b{env};
  auto ca = client_of(a.port());
  auto cb = client_of(b.port());
  auto saved = ca.Put("/subscriptions/billing/position", R"({"position":7})", "application/json");
  REQUIRE(saved);
  REQUIRE(saved->status == 204);
  auto read = cb.Get("/subscriptions/billing/position");
  REQUIRE(read);
  CHECK(read->body == "{\"position\":7}\n");

  auto not_supported = [](const httplib::Result& res) {
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == 501);
    auto body = json::parse(res->body);
    CHECK(body["code"] == "not_supported");
    CHECK(body["error"].get<std::string>().find("not supported") != std::string::npos);
  };
  not_supported(ca.Put("/v1/stream/orders", "", "application/json"));
  not_supported(ca.Get("/v1/stream/orders?offset=-1"));
  not_supported(ca.Post("/events/import", "{\"position\":1,\"type\":\"t\",\"data\":1,"
                                          "\"timestamp\":\"2024-01-01T00:00:00Z\"}\n",
                        "application/x-ndjson"));
  httplib::Client admin{"127.0.0.1", a.port()};
  admin.set_default_headers({{"X-API-Key", "admin-key"}});
  not_supported(admin.Get("/admin/tenants/default/backup"));
  // Nothing was written by the refused requests.
  auto head = cb.Get("/position");
  REQUIRE(head);
  CHECK(head->body == "{\"position\":0}\n");
}

TEST_CASE("pg nodes: PostgreSQL unreachable at start: a clear error and exit status 3") {
  // Nothing listens on port 1: the connection is refused at once.
  child_server node{node_env("postgresql://ebuse:hunter2@127.0.0.1:1/postgres")};
  CHECK(node.port() == 0);
  CHECK(node.wait() == 3);
  auto log = node.output();
  CHECK(log.find("cannot use PostgreSQL") != std::string::npos);
  CHECK(log.find("127.0.0.1:1") != std::string::npos);
  CHECK(log.find("hunter2") == std::string::npos);
}

TEST_CASE("pg nodes: a tenants file with storage: postgres serves each tenant apart") {
  auto url = fresh_pg_database();
  temp_dir dir;
  auto file = dir.file("tenants.yaml");
  {
    std::ofstream out{file};
    out << "storage: postgres\ndatabase_url: \"" << url << "\"\n"
        << "data_dir: \"" << dir.file("data") << "\"\n"
        << "tenants:\n  - name: ta\n    api_key: key-a\n  - name: tb\n    api_key: key-b\n";
  }
  child_server node{{"HOST=127.0.0.1", "PORT=0", "RATE_LIMIT=0", "LOG_LEVEL=info"},
                    {"-config", file}};
  REQUIRE(node.port() > 0);
  auto as = [&](const char* key) {
    httplib::Client c{"127.0.0.1", node.port()};
    c.set_default_headers({{"X-API-Key", key}});
    return c;
  };
  auto a = as("key-a");
  auto b = as("key-b");
  for (int i = 0; i < 3; ++i)
    REQUIRE(a.Post("/events", R"({"type":"a","data":1})", "application/json")->status == 200);
  REQUIRE(b.Post("/events", R"({"type":"b","data":2})", "application/json")->status == 200);
  CHECK(a.Get("/position")->body == "{\"position\":3}\n");
  CHECK(b.Get("/position")->body == "{\"position\":1}\n");
  auto events = json::parse(b.Get("/events?from=1")->body);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "b");
  // No SQLite file was made: data_dir is not even created on PostgreSQL.
  CHECK_FALSE(std::filesystem::exists(dir.file("data")));
}
