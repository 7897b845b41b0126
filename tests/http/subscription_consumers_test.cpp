// HTTP tests for subscriptions as consumers: the listing with lag and the events after a
// stored position.
#include <catch2/catch.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <thread>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_sql.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

void save(httplib::Client& cli, const std::string& id, int64_t position) {
  auto r = put(cli, "/subscriptions/" + id + "/position",
               "{\"position\":" + std::to_string(position) + "}");
  REQUIRE(r.status == 204);
}

// The ids of a listing, in order.
std::vector<std::string> ids_of(const json& list) {
  std::vector<std::string> out;
  for (const auto& s : list["subscriptions"])
    out.push_back(s["subscription_id"].get<std::string>());
  return out;
}

std::vector<int64_t> positions_of(const std::string& body) {
  std::vector<int64_t> out;
  for (const auto& e : parse_array(body))
    out.push_back(e["position"].get<int64_t>());
  return out;
}

} // namespace

TEST_CASE("GET /subscriptions lists positions by id with lag and time", "[http][live]") {
  temp_dir dir;
  auto path = dir.file("events.db");
  test_server srv{path, quiet_config()};
  auto cli = srv.client();
  auto r = get(*cli, "/subscriptions");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "{\"subscriptions\":[],\"head\":0}\n");

  seed(*cli, 10);
  std::time_t before = std::time(nullptr);
  save(*cli, "b", 4);
  save(*cli, "a", 10);
  save(*cli, "%C3%A9t%C3%A9", 12); // ahead of the head: no negative lag
  save(*cli, "c", 0);
  auto all = json::parse(get(*cli, "/subscriptions").body);
  CHECK(ids_of(all) == std::vector<std::string>{"a", "b", "c", "\xC3\xA9t\xC3\xA9"});
  CHECK(all["head"] == 10);
  const std::pair<int64_t, int64_t> pos_lag[] = {{10, 0}, {4, 6}, {0, 10}, {12, 0}};
  for (size_t i = 0; i < 4; ++i) {
    INFO(i);
    const auto& s = all["subscriptions"][i];
    CHECK(s["position"] == pos_lag[i].first);
    CHECK(s["lag"] == pos_lag[i].second);
    std::time_t at = 0;
    REQUIRE(s["updated_at"].is_string());
    REQUIRE(parse_utc_seconds(s["updated_at"].get<std::string>(), at));
    CHECK(at >= before - 1);
    CHECK(at <= std::time(nullptr) + 1);
  }
  // Pages.
  CHECK(ids_of(json::parse(get(*cli, "/subscriptions?limit=2").body))
        == std::vector<std::string>{"a", "b"});
  CHECK(ids_of(json::parse(get(*cli, "/subscriptions?limit=2&after=b").body))
        == std::vector<std::string>{"c", "\xC3\xA9t\xC3\xA9"});
  CHECK(ids_of(json::parse(get(*cli, "/subscriptions?after=%C3%A9t%C3%A9").body)).empty());
  for (const char* bad : {"/subscriptions?limit=0", "/subscriptions?limit=1001",
                          "/subscriptions?limit=abc", "/subscriptions?limit="}) {
    INFO(bad);
    check_error(get(*cli, bad), 400, "invalid_parameter");
  }
  if (pg_mode())
    return; // the rest edits the SQLite file
  // A position saved before the file recorded the time shows none.
  raw_exec(path, "UPDATE subscriptions SET updated_at = 0 WHERE subscription_id = 'c'");
  auto c = json::parse(get(*cli, "/subscriptions?after=b&limit=1").body);
  CHECK(c["subscriptions"][0]["updated_at"].is_null());
}

TEST_CASE("GET /subscriptions/{id}/events reads after the stored position", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 10);
  save(*cli, "p", 3);
  auto r = get(*cli, "/subscriptions/p/events");
  REQUIRE(r.status == 200);
  CHECK(positions_of(r.body) == std::vector<int64_t>{4, 5, 6, 7, 8, 9, 10});
  CHECK(r.header("Ebuse-Head") == "10");
  CHECK(r.body.rfind("[" + expected_batch_event(4, 4) + ",", 0) == 0);
  CHECK(positions_of(get(*cli, "/subscriptions/p/events?limit=2").body)
        == std::vector<int64_t>{4, 5});
  // Types t0..t6 are i mod 7: t1 is at 8 (and 1, before the position).
  CHECK(positions_of(get(*cli, "/subscriptions/p/events?type=t1,t5").body)
        == std::vector<int64_t>{5, 8});
  // Reading does not move the position.
  CHECK(get(*cli, "/subscriptions/p/position").body == "{\"position\":3}\n");
  // A subscription never saved reads from the start.
  CHECK(positions_of(get(*cli, "/subscriptions/new/events?limit=3").body)
        == std::vector<int64_t>{1, 2, 3});
  save(*cli, "done", 10);
  CHECK(get(*cli, "/subscriptions/done/events").body == "[]\n");
  // A consumer at the last position there is: nothing follows, not even after a wait
  // (the next position would overflow and read from the start).
  save(*cli, "end", INT64_MAX);
  for (const char* q : {"", "?wait=50s"}) {
    INFO(q);
    auto end = get(*cli, std::string{"/subscriptions/end/events"} + q);
    CHECK(end.status == 200);
    CHECK(end.body == "[]\n");
    CHECK(end.header("Ebuse-Head") == "10");
  }

  for (const char* bad : {"/subscriptions/p/events?limit=0", "/subscriptions/p/events?limit=1001",
                          "/subscriptions/p/events?wait=x", "/subscriptions/p/events?type=*"}) {
    INFO(bad);
    check_error(get(*cli, bad), 400, "invalid_parameter");
  }
  check_error(get(*cli, "/subscriptions/a%2Fb/events"), 400, "invalid_subscription");
  CHECK(post(*cli, "/subscriptions/p/events", "{}").status == 405);
  CHECK(get(*cli, "/subscriptions/p").status == 404);
}

TEST_CASE("a subscription's events long-poll until a commit", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 2);
  save(*cli, "p", 2);
  reply result;
  std::thread poll{[&] {
    auto c = srv.client();
    result = get(*c, "/subscriptions/p/events?wait=50s");
  }};
  auto& waiting = srv.get_tenant()->stats().events_waiting;
  REQUIRE(eventually([&] { return waiting.load() == 1; }));
  REQUIRE(post(*cli, "/events/batch", make_batch(3, 2)).status == 200);
  poll.join();
  REQUIRE(result.status == 200);
  CHECK(positions_of(result.body) == std::vector<int64_t>{3, 4});
  CHECK(result.header("Ebuse-Head") == "4");
}
