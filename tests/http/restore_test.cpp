// The documented restore procedure, end to end on the real binary: back up a tenant,
// remove it from tenants.yaml, reload, put the file in place, add it back, reload.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include "support/child_process.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

// Reads stdout until a JSON line with `msg` (and `tenant`, if given); null on timeout.
json wait_log(child_process& p, const std::string& msg, const std::string& tenant = {}) {
  std::string line;
  while (p.next_line(line, 15000ms)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == msg
        && (tenant.empty() || j.value("tenant", "") == tenant))
      return j;
  }
  return nullptr;
}

// Reads stdout until every (msg, tenant) of `wanted` was logged, in any order: a reload's
// own line and the closing it starts race, and one left unread would answer a later wait.
bool wait_logs(child_process& p, std::vector<std::pair<std::string, std::string>> wanted) {
  std::string line;
  while (!wanted.empty() && p.next_line(line, 15000ms)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded())
      continue;
    auto seen = std::find_if(wanted.begin(), wanted.end(), [&](const auto& w) {
      return j.value("msg", "") == w.first && (w.second.empty() || j.value("tenant", "") == w.second);
    });
    if (seen != wanted.end())
      wanted.erase(seen);
  }
  return wanted.empty();
}

std::string tenants_yaml(const std::string& data_dir, bool with_shop) {
  std::string y = "data_dir: " + data_dir + "\ntenants:\n  - {name: blog, api_key: key-blog}\n";
  if (with_shop)
    y += "  - {name: shop, api_key: key-shop}\n";
  return y + "admin_keys:\n  - admin-key\n";
}

std::unique_ptr<httplib::Client> client(int port, const std::string& key) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_connection_timeout(5);
  cli->set_read_timeout(30);
  cli->set_default_headers({{"X-API-Key", key}});
  return cli;
}

} // namespace

TEST_CASE("a backup restores by the documented procedure", "[http][backup][restore]") {
  temp_dir dir;
  auto data = dir.file("data");
  auto config = dir.file("tenants.yaml");
  std::ofstream{config} << tenants_yaml(data, true);
  child_process p({"-config", config}, {{"PORT", "0"}, {"HOST", "127.0.0.1"}});
  REQUIRE(p.started());
  auto started = wait_log(p, "ebuse started");
  REQUIRE(started.is_object());
  int port = started["port"].get<int>();
  auto shop = client(port, "key-shop");
  auto admin = client(port, "admin-key");

  // 1. Events, a subscription position, then a backup.
  seed(*shop, 2500);
  REQUIRE(post(*shop, "/subscriptions/mailer/position", "{\"position\":2000}").status == 204);
  auto backup_file = dir.file("shop-backup.db");
  {
    auto r = admin->Get("/admin/tenants/shop/backup");
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("X-Backup-Position") == "2500");
    std::ofstream{backup_file, std::ios::binary} << r->body;
  }
  REQUIRE(wait_log(p, "backup taken", "shop").is_object());
  // Writes after the backup are what a restore gives up.
  REQUIRE(post(*shop, "/events/batch", make_batch(9000, 10)).status == 200);
  REQUIRE(get(*shop, "/position").body == "{\"position\":2510}\n");

  // 2. Remove the tenant from the configuration and reload; wait until it is closed.
  std::ofstream{config, std::ios::trunc} << tenants_yaml(data, false);
  p.signal(SIGHUP);
  REQUIRE(wait_logs(p, {{"configuration reloaded", ""}, {"tenant closed", "shop"}}));
  check_error(get(*shop, "/position"), 401, "unauthorized");

  // 3. Put the backup in place of the database (and drop its WAL and shared memory).
  for (const char* suffix : {"", "-wal", "-shm"})
    std::filesystem::remove(data + "/shop.db" + suffix);
  std::filesystem::copy_file(backup_file, data + "/shop.db");
  ::chmod((data + "/shop.db").c_str(), 0600);

  // 4. Add the tenant back and reload: it serves the restored events.
  std::ofstream{config, std::ios::trunc} << tenants_yaml(data, true);
  p.signal(SIGHUP);
  REQUIRE(wait_log(p, "configuration reloaded").is_object());
  CHECK(get(*shop, "/position").body == "{\"position\":2500}\n");
  CHECK(get(*shop, "/subscriptions/mailer/position").body == "{\"position\":2000}\n");
  CHECK(get(*shop, "/events?from=2499&to=2500").body
        == "[" + expected_batch_event(2499, 2499) + "," + expected_batch_event(2500, 2500)
             + "]\n");
  // Appends go on from the restored head.
  auto next = post(*shop, "/events", event_body("after", "1"));
  CHECK(json::parse(next.body)["position"] == 2501);
  // The other tenant never noticed.
  CHECK(get(*client(port, "key-blog"), "/position").status == 200);

  p.signal(SIGTERM);
  CHECK(p.wait_exit(20000ms) == 0);
}
