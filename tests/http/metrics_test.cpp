// /metrics: figures after known traffic, Prometheus format, tenant isolation, admin view.
#include <cstdio>
#include <fstream>
#include <thread>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

registry_options two_tenants(const temp_dir& dir) {
  return tenants_in(dir, {"a", "b"}, {"admin-key"});
}

// Runs promtool on `text`; returns its exit status and output.
int promtool_check(const std::string& text, std::string& output, const temp_dir& dir) {
  auto in = dir.file("metrics.txt");
  std::ofstream{in} << text;
  auto cmd = "promtool check metrics < " + in + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return -1;
  char buf[512];
  while (auto n = fread(buf, 1, sizeof(buf), p))
    output.append(buf, n);
  return pclose(p);
}

} // namespace

TEST_CASE("writer figures follow known traffic", "[http][metrics]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  std::vector<std::thread> threads;
  std::vector<int> statuses(10, 0);
  for (int i = 0; i < 10; ++i)
    threads.emplace_back([&, i] {
      auto cli = srv.client();
      statuses[i] = post(*cli, "/events", event_body("t", std::to_string(i))).status;
    });
  for (auto& t : threads)
    t.join();
  CHECK(statuses == std::vector<int>(10, 200));
  auto cli = srv.client();
  for (int i = 0; i < 3; ++i)
    REQUIRE(get(*cli, "/position").status == 200);
  REQUIRE(get(*cli, "/nope").status == 404);
  for (int i = 0; i < 3; ++i)
    REQUIRE(get(*cli, "/events?from=1").status == 200);
  auto m = json::parse(get(*cli, "/metrics").body);
  CHECK(m["total_events"] == 10);
  auto commits = m["writer"]["commits"].get<int>();
  CHECK(commits >= 1);
  CHECK(commits <= 10);
  CHECK(m["writer"]["events_written"] == 10);
  CHECK(m["writer"]["events_per_commit"]["sum"] == 10);
  CHECK(m["writer"]["events_per_commit"]["count"] == commits);
  CHECK(m["actors"]["writer"]["handled"].get<int>() >= 10);
  // Every append was answered: the writer's last message (a flush, after every append it
  // commits) found its mailbox empty; the 10 concurrent appends queued some at times.
  CHECK(m["actors"]["writer"]["mailbox"] == 0);
  CHECK(m["actors"]["writer"]["mailbox_peak"].get<int>()
        <= m["actors"]["writer"]["handled"].get<int>());
  if (!pg_mode()) // the size of the tenant's SQLite file
    CHECK(m["storage"]["db_bytes"].get<int64_t>() > 0);
  CHECK(m["http"]["routes"]["events_post"]["2xx"] == 10);
  CHECK(m["http"]["routes"]["position"]["2xx"] == 3);
  CHECK(m["http"]["routes"]["other"]["4xx"].get<int>() >= 1);
  CHECK(m["http"]["connections"]["open"].get<int>() >= 1);
  CHECK(m["process"]["threads"].get<int>() > 1);
  CHECK(m["process"]["rss_bytes"].get<int64_t>() > 0);
  CHECK(m["registry"]["active"] == 1);
  // Every storage job (the commits, the reads) has finished.
  CHECK(m["registry"]["storage_queued"] == 0);
  if (!pg_mode()) {
    // Three reads one after another (a background health probe may add one): pooled
    // read-only connections, opened once and then reused.
    auto opens = m["registry"]["reader_opens"].get<int>();
    auto hits = m["registry"]["reader_hits"].get<int>();
    CHECK(opens >= 1);
    CHECK(hits >= 1);
    CHECK(opens + hits >= 3);
    CHECK(m["registry"]["reader_connections"] == opens);
    CHECK(m["registry"]["reader_evictions"] == 0);
  }
  // The test configuration limits per address at a very high rate: every request passed.
  CHECK(m["rate_limiter"]["per_ip"]["allowed"].get<int>() >= 15);
  CHECK(m["rate_limiter"]["per_ip"]["denied"] == 0);
  CHECK(m["rate_limiter"]["per_ip"]["tracked"] == 1);
}

TEST_CASE("Prometheus output is valid and negotiated", "[http][metrics]") {
  temp_dir dir;
  test_server srv{two_tenants(dir), quiet_config()};
  auto a = client_for(srv, "key-a");
  REQUIRE(post(*a, "/events", event_body("t", "1")).status == 200);
  auto prom = get(*a, "/metrics/prometheus");
  REQUIRE(prom.status == 200);
  CHECK(prom.header("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(prom.body.find("ebuse_events_head{tenant=\"a\"} 1\n") != std::string::npos);
  CHECK(prom.body.find("# TYPE ebuse_writer_commit_seconds histogram") != std::string::npos);
  CHECK(prom.body.find("ebuse_writer_group_events_bucket{tenant=\"a\",le=\"+Inf\"} 1\n")
        != std::string::npos);
  CHECK(prom.body.find("ebuse_actor_messages_total{tenant=\"a\",actor=\"writer\"}")
        != std::string::npos);
  CHECK(prom.body.find("ebuse_rate_limit_decisions_total{scope=\"ip\",result=\"allowed\"}")
        != std::string::npos);
  std::string out;
  int rc = promtool_check(prom.body, out, dir);
  INFO(out);
  CHECK(rc == 0);
  // A scraper's Accept on /metrics gets the same format.
  auto negotiated = get(*a, "/metrics", {{"Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"}});
  CHECK(negotiated.body.rfind("# HELP", 0) == 0);
  CHECK(get(*a, "/metrics").body.rfind("{\"tenant\":\"a\"", 0) == 0);
}

TEST_CASE("tenant metrics are isolated; an admin key sees every tenant", "[http][metrics]") {
  temp_dir dir;
  test_server srv{two_tenants(dir), quiet_config()};
  auto a = client_for(srv, "key-a");
  auto b = client_for(srv, "key-b");
  for (int i = 0; i < 3; ++i)
    REQUIRE(post(*a, "/events", event_body("t", "1")).status == 200);
  REQUIRE(post(*b, "/events", event_body("t", "1")).status == 200);
  auto mb = get(*b, "/metrics").body;
  CHECK(json::parse(mb)["writer"]["events_written"] == 1);
  CHECK(mb.find("\"a\"") == std::string::npos);
  auto pb = get(*b, "/metrics/prometheus").body;
  CHECK(pb.find("tenant=\"a\"") == std::string::npos);
  CHECK(pb.find("tenant=\"b\"") != std::string::npos);

  auto admin = client_for(srv, "admin-key");
  auto all = json::parse(get(*admin, "/metrics").body);
  CHECK(all["tenants"]["a"]["total_events"] == 3);
  CHECK(all["tenants"]["b"]["total_events"] == 1);
  CHECK(all["tenants"]["a"]["running"] == true);
  auto pall = get(*admin, "/metrics/prometheus").body;
  CHECK(pall.find("ebuse_events_head{tenant=\"a\"} 3") != std::string::npos);
  CHECK(pall.find("ebuse_events_head{tenant=\"b\"} 1") != std::string::npos);
  CHECK(get(*admin, "/tenants").status == 200);
  // An admin key opens no tenant's data.
  check_error(get(*admin, "/events?from=0"), 401, "unauthorized");
  check_error(get(*admin, "/position"), 401, "unauthorized");
  check_error(get(*client_for(srv, ""), "/metrics"), 401, "unauthorized");
}

TEST_CASE("METRICS_PUBLIC opens the Prometheus format only", "[http][metrics]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.metrics_public = true;
  test_server srv{two_tenants(dir), cfg};
  REQUIRE(post(*client_for(srv, "key-a"), "/events", event_body("t", "1")).status == 200);
  auto anon = client_for(srv, "");
  auto prom = get(*anon, "/metrics/prometheus");
  CHECK(prom.status == 200);
  CHECK(prom.body.find("ebuse_events_head{tenant=\"a\"} 1") != std::string::npos);
  check_error(get(*anon, "/metrics"), 401, "unauthorized");
  check_error(get(*anon, "/position"), 401, "unauthorized");
}

TEST_CASE("after one commit of one event the group size quantiles are 1", "[http][metrics]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  REQUIRE(post(*cli, "/events", event_body("a", "1")).status == 200);
  auto m = json::parse(get(*cli, "/metrics").body);
  auto g = m["writer"]["events_per_commit"];
  CHECK(g["count"] == 1);
  CHECK(g["p50"] == 1);
  CHECK(g["p95"] == 1);
  CHECK(g["p99"] == 1);
}
