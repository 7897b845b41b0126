// Multi-tenant mode: isolation, lazy start, idle stop, writer recovery, reloads, scale.
#include <filesystem>
#include <fstream>
#include <thread>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "app/tenants_file.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/process_status.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

TEST_CASE("tenants are isolated: positions, reads, subscriptions, metrics",
          "[http][tenants]") {
  temp_dir dir;
  test_server srv{tenants_in(dir, {"a", "b"}), quiet_config()};
  auto a = client_for(srv, "key-a");
  auto b = client_for(srv, "key-b");
  for (int i = 0; i < 3; ++i)
    REQUIRE(post(*a, "/events", event_body("in-a", "1")).status == 200);
  auto first_b = post(*b, "/events", event_body("in-b", "2"));
  REQUIRE(first_b.status == 200);
  CHECK(first_b.body.rfind("{\"position\":1,", 0) == 0);
  CHECK(get(*a, "/position").body == "{\"position\":3}\n");
  CHECK(get(*b, "/position").body == "{\"position\":1}\n");
  auto read_b = parse_array(get(*b, "/events?from=0").body);
  REQUIRE(read_b.size() == 1);
  CHECK(read_b[0]["type"] == "in-b");
  REQUIRE(post(*a, "/subscriptions/s/position", R"({"position":3})").status == 204);
  CHECK(get(*a, "/subscriptions/s/position").body == "{\"position\":3}\n");
  CHECK(get(*b, "/subscriptions/s/position").body == "{\"position\":0}\n");
  auto ma = json::parse(get(*a, "/metrics").body);
  auto mb = json::parse(get(*b, "/metrics").body);
  CHECK(ma["tenant"] == "a");
  CHECK(ma["total_events"] == 3);
  CHECK(mb["tenant"] == "b");
  CHECK(mb["total_events"] == 1);
  CHECK(get(*a, "/tenants").body == "{\"count\":2,\"tenants\":[\"a\",\"b\"]}\n");
  check_error(get(*client_for(srv, "key-c"), "/position"), 401, "unauthorized");
}

TEST_CASE("/tenants exists only in multi-tenant mode", "[http][tenants]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  check_error(get(*srv.client(), "/tenants"), 404, "not_found");
}

TEST_CASE("tenants start on their first request and stop when idle", "[http][tenants]") {
  temp_dir dir;
  auto ropts = tenants_in(dir, {"a", "b"});
  ropts.idle_timeout = 150ms;
  test_server srv{ropts, quiet_config()};
  const auto& stats = srv.registry()->stats();
  CHECK(stats.active.load() == 0);
  CHECK_FALSE(std::filesystem::exists(dir.file("a.db")));
  auto a = client_for(srv, "key-a");
  REQUIRE(post(*a, "/events", event_body("x", "1")).status == 200);
  CHECK(std::filesystem::exists(dir.file("a.db")));
  CHECK_FALSE(std::filesystem::exists(dir.file("b.db")));
  CHECK(stats.active.load() == 1);
  CHECK(stats.spawns.load() == 1);
  // The registry lowers `active` before it counts the stop: wait for both.
  REQUIRE(eventually([&] { return stats.active.load() == 0 && stats.idle_stops.load() == 1; }));
  CHECK(srv.registry()->running().empty());
  // The next request starts it again, with its data.
  CHECK(get(*a, "/position").body == "{\"position\":1}\n");
  CHECK(stats.spawns.load() == 2);
}

TEST_CASE("a tenant whose writer dies is restarted; others do not notice",
          "[http][tenants]") {
  temp_dir dir;
  test_server srv{tenants_in(dir, {"a", "b"}), quiet_config()};
  auto a = client_for(srv, "key-a");
  auto b = client_for(srv, "key-b");
  REQUIRE(post(*a, "/events", event_body("x", "1")).status == 200);
  REQUIRE(post(*b, "/events", event_body("y", "2")).status == 200);
  std::shared_ptr<tenant> ta, tb;
  for (auto& t : srv.registry()->running())
    (t->name() == "a" ? ta : tb) = t;
  REQUIRE(ta);
  REQUIRE(tb);
  caf::anon_send_exit(ta->writer(), caf::exit_reason::kill);
  ta.reset();
  const auto& stats = srv.registry()->stats();
  REQUIRE(eventually([&] { return stats.restarts.load() == 1; }));
  CHECK(post(*a, "/events", event_body("x", "3")).body.rfind("{\"position\":2,", 0) == 0);
  CHECK(get(*b, "/position").body == "{\"position\":1}\n");
  bool b_same = false;
  for (auto& t : srv.registry()->running())
    b_same |= t == tb;
  CHECK(b_same);
}

TEST_CASE("a tenant whose database cannot open answers 503; others work",
          "[http][tenants]") {
  temp_dir dir;
  std::filesystem::create_directory(dir.file("broken.db"));
  test_server srv{tenants_in(dir, {"ok", "broken"}), quiet_config()};
  check_error(get(*client_for(srv, "key-broken"), "/position"), 503, "storage_unavailable");
  CHECK(get(*client_for(srv, "key-ok"), "/position").status == 200);
}

TEST_CASE("reloads add, remove and rotate tenants; an invalid file changes nothing",
          "[http][tenants]") {
  temp_dir dir;
  auto path = dir.file("tenants.yaml");
  auto write = [&](const std::string& text) { std::ofstream{path} << text; };
  auto data_dir = dir.file("data");
  write("data_dir: " + data_dir + "\ntenants:\n  - {name: a, api_key: key-a}\n"
        "  - {name: b, api_key: key-b}\n");
  tenants_file file;
  std::string err;
  REQUIRE(load_tenants_file(path, file, err));
  REQUIRE(ensure_data_dir(file.data_dir, err));
  registry_options ropts;
  ropts.tenants = file.tenants;
  test_server srv{ropts, quiet_config()};
  auto a = client_for(srv, "key-a");
  auto b = client_for(srv, "key-b");
  REQUIRE(post(*a, "/events", event_body("x", "1")).status == 200);
  REQUIRE(post(*b, "/events", event_body("y", "1")).status == 200);

  // b removed, c added, a's key rotated.
  write("data_dir: " + data_dir + "\ntenants:\n  - {name: a, api_key: key-a2}\n"
        "  - {name: c, api_key: key-c}\n");
  REQUIRE(reload_tenants(path, *srv.registry(), file, err));
  auto a2 = client_for(srv, "key-a2");
  REQUIRE(eventually([&] { return get(*a2, "/position").status == 200; }));
  CHECK(get(*a2, "/position").body == "{\"position\":1}\n");
  check_error(get(*a, "/position"), 401, "unauthorized");
  check_error(get(*b, "/position"), 401, "unauthorized");
  CHECK(get(*client_for(srv, "key-c"), "/position").body == "{\"position\":0}\n");
  CHECK(get(*a2, "/tenants").body == "{\"count\":2,\"tenants\":[\"a\",\"c\"]}\n");
  // The removed tenant's actors stop once nothing uses them.
  REQUIRE(eventually([&] {
    for (auto& t : srv.registry()->running())
      if (t->name() == "b")
        return false;
    return true;
  }));

  write("tenants: []\n");
  CHECK_FALSE(reload_tenants(path, *srv.registry(), file, err));
  CHECK(err.find("no tenants") != std::string::npos);
  CHECK(get(*a2, "/position").status == 200);
  CHECK(get(*a2, "/tenants").body == "{\"count\":2,\"tenants\":[\"a\",\"c\"]}\n");
}

TEST_CASE("a thousand configured tenants start without threads or files per tenant",
          "[http][tenants][scale]") {
  temp_dir dir;
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i)
    names.push_back("t" + std::to_string(i));
  int before = process_threads();
  test_server srv{tenants_in(dir, names), quiet_config()};
  // The HTTP worker pool exists once the server serves; /health starts no tenant.
  REQUIRE(get(*srv.client(false), "/health").status == 200);
  int idle_threads = process_threads();
  CHECK(srv.registry()->stats().configured.load() == 1000);
  CHECK(srv.registry()->stats().active.load() == 0);
  CHECK(std::distance(std::filesystem::directory_iterator{dir.path()},
                      std::filesystem::directory_iterator{})
        == 0);
  // Threads come from the server itself, not from the tenants configured; a running
  // tenant holds none either (its storage jobs run on the STORAGE_WORKERS pool).
  CHECK(idle_threads - before
        <= quiet_config().http_threads + static_cast<int>(quiet_config().storage_workers) + 16);
  for (int i = 0; i < 3; ++i)
    REQUIRE(get(*client_for(srv, "key-t" + std::to_string(i * 100)), "/position").status
            == 200);
  CHECK(srv.registry()->stats().active.load() == 3);
  CHECK(process_threads() - idle_threads == 0);
}
