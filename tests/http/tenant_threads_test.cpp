// Threads of the process stay the same however many tenants are active (SQLite or PostgreSQL).
#include <string>
#include <vector>

#include "support/http_helpers.hpp"
#include "support/process_status.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {


// Appends to, reads from and saves a subscription position of tenant `name`: every
// actor of the tenant (writer, reader, subscriptions) is started and has run a job.
void exercise(const test_server& srv, const std::string& name) {
  auto c = client_for(srv, "key-" + name);
  REQUIRE(post(*c, "/events", event_body("t", "1")).status == 200);
  REQUIRE(get(*c, "/events?from=0").status == 200);
  REQUIRE(post(*c, "/subscriptions/s/position", R"({"position":1})").status == 204);
  REQUIRE(get(*c, "/subscriptions/s/position").body == "{\"position\":1}\n");
  REQUIRE(get(*c, "/subscriptions").status == 200);
}

} // namespace

TEST_CASE("threads do not grow with active tenants", "[http][tenants]") {
  temp_dir dir;
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i)
    names.push_back("t" + std::to_string(i));
  auto ropts = tenants_in(dir, names);
  if (pg_mode()) {
    // Every tenant in one PostgreSQL database, as a node serves them.
    auto url = test_server::pg_database_of(dir.file("tenants"));
    for (auto& t : ropts.tenants)
      t.database_url = url;
    ropts.defaults.pg_readers = std::make_shared<pg_reader_pool>(url);
  }
  test_server srv{std::move(ropts), quiet_config()};
  exercise(srv, names.front());
  int one_tenant = process_threads();
  for (auto& name : names)
    exercise(srv, name);
  CHECK(srv.registry()->stats().active.load() == 50);
  // A tenant's actors are cooperative and its storage jobs run on process-wide pools.
  CHECK(process_threads() - one_tenant == 0);
}
