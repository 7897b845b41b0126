// HTTP tests for the `type=` filter of GET /events and /events/stream.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_sql.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

// Types chosen around the prefix `order.`: `order`, `orders` and `order/x` must not pass
// `order.*`; `order.` itself (the prefix alone) does.
const std::vector<std::string> seeded_types = {
  "order.created", "user.created", "orders", "order", "order.paid", "user.deleted",
  "order/x", "order.", "audit", "order.line.added", "ordex.y", "user.created",
};

void seed_types(httplib::Client& cli) {
  std::string batch = "[";
  for (size_t i = 0; i < seeded_types.size(); ++i)
    batch += (i ? "," : "") + event_body(seeded_types[i], std::to_string(i + 1));
  REQUIRE(post(cli, "/events/batch", batch + "]").status == 200);
}

// The positions and types of an event array.
std::vector<std::pair<int64_t, std::string>> positions_of(const std::string& body) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& e : parse_array(body))
    out.emplace_back(e["position"].get<int64_t>(), e["type"].get<std::string>());
  return out;
}

using rows = std::vector<std::pair<int64_t, std::string>>;

// Every read path with the same filters gives the same events.
void check_filters(httplib::Client& cli) {
  const std::pair<const char*, rows> cases[] = {
    {"order.created", {{1, "order.created"}}},
    {"order.*", {{1, "order.created"}, {5, "order.paid"}, {8, "order."},
                 {10, "order.line.added"}}},
    {"user.created,audit", {{2, "user.created"}, {9, "audit"}, {12, "user.created"}}},
    {"order.line.*,user.*,orders",
     {{2, "user.created"}, {3, "orders"}, {6, "user.deleted"}, {10, "order.line.added"},
      {12, "user.created"}}},
    {"nothing", {}},
    {"order.created,order.created", {{1, "order.created"}}},
  };
  for (const auto& [filter, want] : cases) {
    INFO(filter);
    std::string q = std::string{"&type="} + filter;
    auto r = get(cli, "/events?from=0" + q);
    REQUIRE(r.status == 200);
    CHECK(positions_of(r.body) == want);
    CHECK(r.header("Ebuse-Head") == "12");
    CHECK(positions_of(get(cli, "/events?from=0&to=100000" + q).body) == want);
    CHECK(positions_of(get(cli, "/events/stream?from=0&batch_size=1" + q).body) == want);
    // From past the first match, and a range ending before the last.
    rows tail;
    for (const auto& w : want)
      if (w.first >= 3 && w.first <= 9)
        tail.push_back(w);
    CHECK(positions_of(get(cli, "/events?from=3&to=9" + q).body) == tail);
  }
}

} // namespace

TEST_CASE("type filters select exact types and prefixes, keeping positions", "[http][live]") {
  temp_dir dir;
  auto path = dir.file("events.db");
  {
    test_server srv{path, quiet_config()};
    auto cli = srv.client();
    seed_types(*cli);
    check_filters(*cli);
  }
  if (pg_mode())
    return; // the rest edits the SQLite file
  // A file with the original's (type, position) index answers the same.
  raw_exec(path, "CREATE INDEX idx_events_type ON events(type, position)");
  test_server srv{path, quiet_config()};
  auto cli = srv.client();
  check_filters(*cli);
}

TEST_CASE("a bad type pattern is refused with 400", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  std::string many = "a";
  for (int i = 1; i < 33; ++i)
    many += ",t" + std::to_string(i);
  for (const std::string& filter :
       {std::string{}, std::string{","}, std::string{"a,,b"}, std::string{"a,"},
        std::string{"*"}, std::string{".*"}, std::string{"a*"}, std::string{"a.*b"},
        std::string{"a.**"}, std::string{"*.a"}, std::string{"a*.b"}, many,
        std::string(257, 'x')}) {
    INFO(filter);
    for (const char* base : {"/events?from=0", "/events/stream?from=0"})
      check_error(get(*cli, std::string{base} + "&type=" + filter), 400, "invalid_parameter");
  }
  CHECK(get(*cli, "/events?from=0&type=" + many.substr(0, many.rfind(','))).status == 200);
  CHECK(get(*cli, "/events?from=0&type=" + std::string(256, 'x')).status == 200);
}

TEST_CASE("a filtered long-poll waits through commits of other types", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed_types(*cli);
  reply result;
  std::thread poll{[&] {
    auto c = srv.client();
    result = get(*c, "/events?from=13&wait=50s&type=invoice.*");
  }};
  auto& waiting = srv.get_tenant()->stats().events_waiting;
  REQUIRE(eventually([&] { return waiting.load() == 1; }));
  REQUIRE(post(*cli, "/events", event_body("order.created", "1")).status == 200);
  REQUIRE(post(*cli, "/events", event_body("invoice.sent", "2")).status == 200);
  poll.join();
  REQUIRE(result.status == 200);
  CHECK(positions_of(result.body) == rows{{14, "invoice.sent"}});
  CHECK(result.header("Ebuse-Head") == "14");
}

TEST_CASE("types with quotes, backslashes, braces and non-ASCII filter exactly",
          "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  std::string batch = "[" + event_body("a\"b\\c", "1") + "," + event_body("a\"b\\c.x", "2")
                      + "," + event_body("{x}.y", "3") + "," + event_body("\xC3\xA9.z", "4") + "]";
  REQUIRE(post(*cli, "/events/batch", batch).status == 200);
  const std::pair<const char*, rows> cases[] = {
    {"a%22b%5Cc", {{1, "a\"b\\c"}}},
    {"a%22b%5Cc.*", {{2, "a\"b\\c.x"}}},
    {"%7Bx%7D.*,%C3%A9.*", {{3, "{x}.y"}, {4, "\xC3\xA9.z"}}},
  };
  for (const auto& [filter, want] : cases) {
    INFO(filter);
    CHECK(positions_of(get(*cli, std::string{"/events?from=0&type="} + filter).body) == want);
  }
}
