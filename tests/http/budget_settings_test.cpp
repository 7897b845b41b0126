// The real binary applies MAX_OPEN_TENANTS and PAGE_CACHE_BYTES, and serves under tiny budgets.
#include <catch2/catch.hpp>

#include <fstream>

#include <sys/resource.h>

#include "app/fd_limit.hpp"
#include "support/child_process.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

// Starts the binary over a tenants file of `tenants` tenants (keys key-t<i>) with `env`,
// and returns the "tenant budgets" line it logged; `port` is set from the start-up line.
json start_logged(child_process& p, int& port) {
  json budgets;
  std::string line;
  while (p.next_line(line, 10000ms)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded())
      continue;
    if (j.value("msg", "") == "tenant budgets")
      budgets = j;
    if (j.value("msg", "") == "ebuse started") {
      port = j.value("port", 0);
      break;
    }
  }
  return budgets;
}

std::string write_tenants(const temp_dir& dir, int tenants) {
  auto path = dir.file("tenants.yaml");
  std::ofstream out{path};
  out << "data_dir: \"" << dir.file("data") << "\"\ntenants:\n";
  for (int i = 0; i < tenants; ++i)
    out << "  - name: \"t" << i << "\"\n    api_key: \"key-t" << i << "\"\n";
  return path;
}

std::map<std::string, std::string> env_of(std::map<std::string, std::string> extra) {
  extra.emplace("PORT", "0");
  extra.emplace("HOST", "127.0.0.1");
  extra.emplace("RATE_LIMIT", "0");
  return extra;
}

} // namespace

TEST_CASE("the open-tenant budget is derived from the descriptor limit and logged",
          "[http][process][config][budget]") {
  temp_dir dir;
  child_process p({"-config", write_tenants(dir, 1)}, env_of({}));
  REQUIRE(p.started());
  int port = 0;
  auto logged = start_logged(p, port);
  REQUIRE(logged.is_object());
  rlimit child{};
  REQUIRE(::prlimit(p.pid(), RLIMIT_NOFILE, nullptr, &child) == 0);
  auto limit = child.rlim_cur == RLIM_INFINITY ? INT64_MAX : static_cast<int64_t>(child.rlim_cur);
  CHECK(logged.value("derived", "") == "true");
  CHECK(logged.value("descriptor_limit", int64_t{0}) == limit);
  CHECK(logged.value("max_open_tenants", int64_t{0}) == open_tenant_budget(limit, 256));
  CHECK(logged.value("page_cache_bytes", int64_t{0}) == int64_t{256} << 20);
  // One tenant: its writer and its READERS (3) connections keep what they ask for.
  CHECK(logged.value("writer_cache_kib", int64_t{0}) == 64000);
  CHECK(logged.value("reader_cache_kib", int64_t{0}) == 4000);
  p.signal(SIGTERM);
  CHECK(p.wait_exit(15000ms) == 0);
}

TEST_CASE("a node with tiny budgets serves every tenant", "[http][process][budget][sqlite]") {
  temp_dir dir;
  child_process p({"-config", write_tenants(dir, 5)},
                  env_of({{"MAX_OPEN_TENANTS", "2"}, {"PAGE_CACHE_BYTES", "65536"}}));
  REQUIRE(p.started());
  int port = 0;
  auto logged = start_logged(p, port);
  REQUIRE(logged.is_object());
  REQUIRE(port > 0);
  CHECK(logged.value("derived", "") == "false");
  CHECK(logged.value("max_open_tenants", int64_t{0}) == 2);
  CHECK(logged.value("page_cache_bytes", int64_t{0}) == 65536);
  CHECK(logged.value("writer_cache_kib", int64_t{0}) == 64);
  CHECK(logged.value("reader_cache_kib", int64_t{0}) == 64);
  httplib::Client cli{"127.0.0.1", port};
  cli.set_read_timeout(30);
  // Pages far beyond the heap limit, read back across stops and reopens.
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 5; ++i) {
      INFO("t" << i << " round " << round);
      httplib::Headers key{{"X-API-Key", "key-t" + std::to_string(i)}};
      auto w = post(cli, "/events/batch", make_batch(round * 500 + 1, 500), key);
      REQUIRE(w.status == 200);
      auto r = get(cli, "/events?from=1", key);
      REQUIRE(r.status == 200);
      auto events = parse_array(r.body);
      REQUIRE(events.size() == static_cast<std::size_t>((round + 1) * 500));
      CHECK(events.back() == json::parse(expected_batch_event((round + 1) * 500,
                                                              (round + 1) * 500)));
    }
  auto m = get(cli, "/metrics", {{"X-API-Key", "key-t0"}});
  CHECK(m.status == 200);
  p.signal(SIGTERM);
  CHECK(p.wait_exit(15000ms) == 0);
}
