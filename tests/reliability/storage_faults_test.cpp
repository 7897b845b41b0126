// Storage faults through the HTTP API: a full disk (507), a database that cannot be
// opened (503 for that tenant only), a write lock held by another process (503).
#include <filesystem>
#include <fstream>

#include <sqlite3.h>

#include "http/codec.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

// Internal detail that must never reach a client.
void check_no_internals(const reply& r, const temp_dir& dir) {
  INFO(r.body);
  CHECK(r.body.find(dir.path().string()) == std::string::npos);
  CHECK(r.body.find(".db") == std::string::npos);
  CHECK(r.body.find("SQL") == std::string::npos);
  CHECK(r.body.find("sqlite") == std::string::npos);
}

registry_options single(const std::string& db, store_options store) {
  auto ropts = test_server::single_tenant(db, quiet_config());
  ropts.defaults.store = store;
  return ropts;
}

} // namespace

TEST_CASE("a full disk answers 507, reads go on, writes resume with space", "[faults]") {
  temp_dir dir;
  auto db = dir.file("full.db");
  store_options small;
  small.max_page_count = 16; // 64 KiB
  int64_t acked = 0;
  {
    test_server srv{single(db, small), test_server::with_db(quiet_config(), db)};
    auto cli = srv.client();
    reply r;
    for (int i = 0; i < 200; ++i) {
      r = post(*cli, "/events/batch", make_batch(acked + 1, 20));
      if (r.status != 200)
        break;
      acked += 20;
    }
    check_error(r, 507, "storage_full");
    check_no_internals(r, dir);
    REQUIRE(acked > 0);
    // Nothing of the failed batch was applied; reads, position and health still work.
    CHECK(get(*cli, "/position").body == render_position(acked));
    auto all = parse_array(get(*cli, "/events?from=1&to=" + std::to_string(acked)).body);
    CHECK(static_cast<int64_t>(all.size()) == acked);
    CHECK(get(*cli, "/health").status == 200);
    check_error(post(*cli, "/events", event_body("t", std::string(300000, '1'))), 507,
                "storage_full");
    // Still full on retry, and still answering.
    check_error(post(*cli, "/events/batch", make_batch(acked + 1, 20)), 507, "storage_full");
  }
  // Space returns (here: a larger quota on restart): writes resume after the last
  // acknowledged event, with dense positions.
  store_options roomy;
  roomy.max_page_count = 4096;
  test_server srv{single(db, roomy), test_server::with_db(quiet_config(), db)};
  auto cli = srv.client();
  auto r = post(*cli, "/events/batch", make_batch(acked + 1, 20));
  REQUIRE(r.status == 200);
  CHECK(r.body == batch_reply(acked + 1, acked + 20, 20));
  auto all = parse_array(get(*cli, "/events?from=1&to=" + std::to_string(acked + 20)).body);
  REQUIRE(static_cast<int64_t>(all.size()) == acked + 20);
  CHECK(all[0].dump() == json::parse(expected_batch_event(1, 1)).dump());
}

TEST_CASE("a tenant whose database cannot be opened answers 503; others are unaffected",
          "[faults]") {
  temp_dir dir;
  registry_options ropts;
  for (std::string n : {"good", "isdir", "garbage"})
    ropts.tenants.push_back(tenant_spec{n, dir.file(n + ".db"), digest_of("key-" + n), ""});
  std::filesystem::create_directory(dir.file("isdir.db"));
  {
    std::ofstream out{dir.file("garbage.db")};
    for (int i = 0; i < 1000; ++i)
      out << "this is not a database file ";
  }
  test_server srv{std::move(ropts), quiet_config()};
  auto with_key = [&](const std::string& k) {
    auto cli = srv.client(false);
    cli->set_default_headers({{"X-API-Key", k}});
    return cli;
  };
  auto good = with_key("key-good");
  for (std::string bad : {"isdir", "garbage"}) {
    INFO(bad);
    auto cli = with_key("key-" + bad);
    for (int i = 0; i < 3; ++i) {
      auto r = post(*cli, "/events", event_body("t", "1"));
      check_error(r, 503, "storage_unavailable");
      check_no_internals(r, dir);
      // After the failed start, requests are refused without another try for a while,
      // and told when to come back.
      auto again = get(*cli, "/position");
      check_error(again, 503, "storage_unavailable");
      CHECK(std::stoi("0" + again.header("Retry-After")) >= 1);
      CHECK(post(*good, "/events", event_body("t", "1")).status == 200);
    }
  }
  CHECK(srv.registry()->stats().spawns.load() == 1);
  CHECK(get(*good, "/position").body == render_position(6));
  CHECK(get(*good, "/health").status == 200);
  // Once the operator fixes the file, the tenant starts on a request after the back-off.
  std::filesystem::remove(dir.file("isdir.db"));
  auto fixed = with_key("key-isdir");
  CHECK(eventually([&] { return post(*fixed, "/events", event_body("t", "1")).status == 200; }));
}

TEST_CASE("a write lock held by another process gives 503 after a bounded wait",
          "[faults]") {
  temp_dir dir;
  auto db = dir.file("busy.db");
  store_options opts;
  opts.busy_timeout_ms = 1000;
  test_server srv{single(db, opts), test_server::with_db(quiet_config(), db)};
  auto cli = srv.client();
  REQUIRE(post(*cli, "/events", event_body("t", "1")).status == 200);
  // Another connection (as another process would) takes the write lock and keeps it.
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  auto start = std::chrono::steady_clock::now();
  auto r = post(*cli, "/events", event_body("t", "2"));
  auto waited = std::chrono::steady_clock::now() - start;
  check_error(r, 503, "storage_busy");
  check_no_internals(r, dir);
  CHECK(waited >= 900ms);
  CHECK(waited < 5s);
  check_error(post(*cli, "/subscriptions/s/position", R"({"position":1})"), 503,
              "storage_busy");
  // Readers are not blocked by the lock (WAL).
  CHECK(parse_array(get(*cli, "/events?from=1").body).size() == 1);
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  r = post(*cli, "/events", event_body("t", "3"));
  CHECK(r.status == 200);
  CHECK(r.body.rfind("{\"position\":2,", 0) == 0);
}
