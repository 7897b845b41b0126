// HTTP tests at the edges of int64: positions, ranges, page sizes and subscription
// positions next to INT64_MAX. Their point is the sanitizer stage: UBSan stops on any
// signed overflow in parsing, handlers, readers or the writer.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <sqlite3.h>

#include "storage/event_store.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

constexpr int64_t max = std::numeric_limits<int64_t>::max();
const std::string max_text = std::to_string(max);

// A database whose last event sits at `head`, written as another program would.
void make_store_at(const std::string& path, int64_t head) {
  REQUIRE(ebuse::store_writer::open(path));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql = "INSERT INTO events (position, type, data, timestamp) VALUES ("
                    + std::to_string(head) + ", 't', '0', '2024-01-01 00:00:00+00:00')";
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// The positions of the events of an array body.
std::vector<int64_t> positions_of(const std::string& body) {
  std::vector<int64_t> out;
  for (const auto& e : parse_array(body))
    out.push_back(e["position"].get<int64_t>());
  return out;
}

} // namespace

TEST_CASE("reads across the whole int64 range on an empty store", "[http][overflow]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  for (const auto& path : std::vector<std::string>{"/events?from=0&to=" + max_text, "/events?from=" + max_text,
        "/events?from=" + max_text + "&to=" + max_text, "/events?from=1&to=" + max_text,
        "/events?from=" + max_text + "&to=0"}) {
    INFO(path);
    auto r = get(*cli, path);
    CHECK(r.status == 200);
    CHECK(r.body == "[]\n");
  }
  for (const auto& path : std::vector<std::string>{"/events/stream?from=" + max_text,
                           "/events/stream?from=0&batch_size=" + max_text,
                           "/events/stream?from=0&batch_size=-9223372036854775808"}) {
    INFO(path);
    CHECK(get(*cli, path).body == "[]");
  }
  for (const auto& path : std::vector<std::string>{"/events?from=9223372036854775808", "/events?from=-9223372036854775808",
                           "/events?from=0&to=-9223372036854775808",
                           "/events?from=0&to=9223372036854775808",
                           "/events/stream?from=9223372036854775808"}) {
    INFO(path);
    check_error(get(*cli, path), 400, "invalid_parameter");
  }
}

TEST_CASE("positions next to INT64_MAX are written, read and refused past it",
          "[sqlite][http][overflow]") {
  temp_dir dir;
  auto path = dir.file("events.db");
  make_store_at(path, max - 3);
  test_server srv{path, quiet_config()};
  auto cli = srv.client();

  auto batch = post(*cli, "/events/batch", make_batch(1, 2));
  REQUIRE(batch.status == 200);
  CHECK(batch.body == batch_reply(max - 2, max - 1, 2));
  auto one = post(*cli, "/events", event_body("last", "1"));
  REQUIRE(one.status == 200);
  CHECK(json::parse(one.body)["position"] == max);
  // No position is left: refused as a full store, nothing half-written.
  check_error(post(*cli, "/events", event_body("over", "1")), 507, "storage_full");
  check_error(post(*cli, "/events/batch", make_batch(1, 2)), 507, "storage_full");
  CHECK(get(*cli, "/position").body == "{\"position\":" + max_text + "}\n");

  const std::vector<int64_t> all = {max - 3, max - 2, max - 1, max};
  for (const auto& p : std::vector<std::string>{"/events?from=0", "/events?from=0&to=" + max_text,
                        "/events?from=1&to=" + max_text,
                        "/events?from=" + std::to_string(max - 3) + "&to=-1",
                        "/events/stream?from=0", "/events/stream?from=0&batch_size=1",
                        "/events/stream?from=0&batch_size=" + max_text}) {
    INFO(p);
    auto r = get(*cli, p);
    REQUIRE(r.status == 200);
    CHECK(positions_of(r.body) == all);
  }
  CHECK(positions_of(get(*cli, "/events?from=" + max_text).body)
        == std::vector<int64_t>{max});
  CHECK(positions_of(get(*cli, "/events?from=" + max_text + "&to=" + max_text).body)
        == std::vector<int64_t>{max});
  CHECK(positions_of(get(*cli, "/events/stream?from=" + max_text).body)
        == std::vector<int64_t>{max});
  CHECK(positions_of(get(*cli, "/events?from=" + std::to_string(max - 1) + "&to=" + max_text)
                       .body)
        == std::vector<int64_t>{max - 1, max});

  // Figures are exact however large (not rounded through a double).
  auto m = json::parse(get(*cli, "/metrics").body);
  CHECK(m["total_events"] == max);
  auto prom = get(*cli, "/metrics/prometheus").body;
  CHECK(prom.find("\nebuse_events_head{tenant=\"default\"} " + max_text + "\n")
        != std::string::npos);
}

TEST_CASE("subscription and event positions at the int64 edges", "[http][overflow]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  REQUIRE(post(*cli, "/subscriptions/edge/position", "{\"position\":" + max_text + "}").status
          == 204);
  CHECK(get(*cli, "/subscriptions/edge/position").body == "{\"position\":" + max_text + "}\n");
  for (auto bad : {"9223372036854775808", "-9223372036854775808", "1e19"}) {
    INFO(bad);
    check_error(post(*cli, "/subscriptions/edge/position", std::string{"{\"position\":"} + bad + "}"),
                400, "invalid_subscription");
  }
  // The position of a posted event is ignored, whatever its size; past int64 it is not
  // an integer.
  for (const auto& pos : std::vector<std::string>{max_text, "-9223372036854775808"}) {
    auto r = post(*cli, "/events", "{\"type\":\"a\",\"data\":1,\"position\":" + pos + "}");
    REQUIRE(r.status == 200);
  }
  check_error(post(*cli, "/events", R"({"type":"a","data":1,"position":9223372036854775808})"),
              400, "invalid_event");
  CHECK(get(*cli, "/position").body == "{\"position\":2}\n");
}

TEST_CASE("the largest accepted settings serve requests", "[http][overflow]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.wal_autocheckpoint = 1000000000;
  cfg.rate_limit = 1; // one token a second in a bucket of 10^9: T * burst = 10^18 ns
  cfg.rate_burst = 1000000000;
  cfg.rate_limit_per_key = 1000000000;
  cfg.rate_burst_per_key = 1000000000;
  cfg.max_body_bytes = std::size_t{1} << 30;
  cfg.gzip_min_bytes = std::size_t{1} << 30;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 3);
  auto r = get(*cli, "/events?from=0&to=" + max_text);
  REQUIRE(r.status == 200);
  CHECK(positions_of(r.body) == std::vector<int64_t>{1, 2, 3});
  CHECK(r.header("RateLimit-Limit") == "1000000000");
}
