// HTTP tests for /subscriptions/{id}/position: reads, saves, id and body validation.
#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

std::string sub_path(const std::string& encoded_id) {
  return "/subscriptions/" + encoded_id + "/position";
}

// A client that sends paths exactly as given (they are already percent-encoded).
std::unique_ptr<httplib::Client> raw_client(const test_server& srv) {
  auto cli = srv.client();
  cli->set_url_encode(false);
  return cli;
}

} // namespace

TEST_CASE("subscription positions are saved and read back", "[http][subscriptions]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = raw_client(srv);

  auto r = get(*cli, sub_path("unknown"));
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "{\"position\":0}\n");

  r = post(*cli, sub_path("orders"), R"({"position":42})");
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(get(*cli, sub_path("orders")).body == "{\"position\":42}\n");

  r = put(*cli, sub_path("orders"), R"({"position":7})");
  CHECK(r.status == 204);
  CHECK(get(*cli, sub_path("orders")).body == "{\"position\":7}\n");

  r = put(*cli, sub_path("billing"), " { \"position\" : 0 } ");
  CHECK(r.status == 204);
  CHECK(get(*cli, sub_path("billing")).body == "{\"position\":0}\n");

  r = post(*cli, sub_path("big"), R"({"position":9223372036854775807})");
  CHECK(r.status == 204);
  CHECK(get(*cli, sub_path("big")).body == "{\"position\":9223372036854775807}\n");

  // UTF-8 ids, percent-encoded on the wire.
  r = post(*cli, sub_path("%C3%A9t%C3%A9"), R"({"position":5})");
  CHECK(r.status == 204);
  CHECK(get(*cli, sub_path("%C3%A9t%C3%A9")).body == "{\"position\":5}\n");
  CHECK(get(*cli, sub_path("ete")).body == "{\"position\":0}\n");

  // Other legal ids: exactly 256 bytes, dots inside, spaces, punctuation.
  const std::string id256(256, 'a');
  CHECK(post(*cli, sub_path(id256), R"({"position":3})").status == 204);
  CHECK(get(*cli, sub_path(id256)).body == "{\"position\":3}\n");
  CHECK(post(*cli, sub_path("..."), R"({"position":4})").status == 204);
  CHECK(get(*cli, sub_path("...")).body == "{\"position\":4}\n");
  CHECK(post(*cli, sub_path("a.b-c_d%20e"), R"({"position":6})").status == 204);
  CHECK(get(*cli, sub_path("a.b-c_d%20e")).body == "{\"position\":6}\n");

  // Ids are independent of each other.
  CHECK(get(*cli, sub_path("orders")).body == "{\"position\":7}\n");
  CHECK(get(*cli, sub_path("Orders")).body == "{\"position\":0}\n");

  // Subscription positions are not events.
  CHECK(get(*cli, "/position").body == "{\"position\":0}\n");
}

TEST_CASE("invalid subscription ids are rejected", "[http][subscriptions][errors]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = raw_client(srv);

  for (const std::string& id : {std::string{"a%2Fb"}, std::string{"a/b"},
                                std::string{"a%01b"}, std::string{"%0A"},
                                std::string{"a%0Db"}, std::string{"%1F"}, std::string{"a%7F"},
                                std::string{"a%00b"}, std::string{"%FF"},
                                std::string{"%C3"}}) {
    INFO("id '" << id << "'");
    check_error(get(*cli, sub_path(id)), 400, "invalid_subscription");
    check_error(post(*cli, sub_path(id), R"({"position":1})"), 400, "invalid_subscription");
    check_error(put(*cli, sub_path(id), R"({"position":1})"), 400, "invalid_subscription");
  }
  // An empty id, `.` and a lone `/` (also encoded) are cleaned out of the path, as Go's
  // ServeMux cleans it: what is left has no id, like /subscriptions/position.
  for (const std::string& id : {std::string{}, std::string{"."}, std::string{"%2E"},
                                std::string{"%2F"}}) {
    INFO("id '" << id << "'");
    check_error(get(*cli, sub_path(id)), 404, "not_found");
    check_error(post(*cli, sub_path(id), R"({"position":1})"), 404, "not_found");
  }
  // `..` takes the path up a level: /subscriptions/../position is /position.
  for (const std::string& id : {std::string{".."}, std::string{"%2E%2E"}}) {
    INFO("id '" << id << "'");
    CHECK(get(*cli, sub_path(id)).body == "{\"position\":0}\n");
    check_error(post(*cli, sub_path(id), R"({"position":1})"), 405, "method_not_allowed");
  }
  // Nothing of the above was stored under a normalised name.
  CHECK(get(*cli, sub_path("a")).body == "{\"position\":0}\n");
  CHECK(get(*cli, sub_path("b")).body == "{\"position\":0}\n");
}

TEST_CASE("paths under /subscriptions/ other than {id}/position are unknown",
          "[http][subscriptions][errors]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = raw_client(srv);
  for (const char* path : {"/subscriptions/a", "/subscriptions/a/", "/subscriptions/a/positions",
                           "/subscriptions/a/position/x", "/subscriptions/"}) {
    INFO(path);
    check_error(get(*cli, path), 404, "not_found");
    check_error(post(*cli, path, R"({"position":1})"), 404, "not_found");
  }
}

TEST_CASE("invalid subscription positions are rejected", "[http][subscriptions][errors]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = raw_client(srv);
  REQUIRE(post(*cli, sub_path("s"), R"({"position":10})").status == 204);

  struct row {
    const char* body;
    const char* code;
  };
  const row rows[] = {
    {R"({"position":-1})", "invalid_subscription"},
    {R"({"position":1.5})", "invalid_subscription"},
    {R"({"position":1e3})", "invalid_subscription"},
    {R"({"position":"x"})", "invalid_subscription"},
    {R"({"position":"5"})", "invalid_subscription"},
    {R"({"position":null})", "invalid_subscription"},
    {R"({"position":true})", "invalid_subscription"},
    {R"({"position":99999999999999999999})", "invalid_subscription"},
    {R"({})", "invalid_subscription"},
    {R"({"pos":3})", "invalid_subscription"},
    {R"([{"position":3}])", "invalid_subscription"},
    {R"(3)", "invalid_subscription"},
    {"", "invalid_json"},
    {R"({"position":)", "invalid_json"},
    {R"({"position":3} x)", "invalid_json"},
  };
  for (const auto& x : rows) {
    INFO("body: " << x.body);
    check_error(post(*cli, sub_path("s"), x.body), 400, x.code);
    check_error(put(*cli, sub_path("s"), x.body), 400, x.code);
  }
  CHECK(get(*cli, sub_path("s")).body == "{\"position\":10}\n");
}

TEST_CASE("subscription positions survive a restart", "[http][subscriptions][restart]") {
  temp_dir dir;
  const auto db = dir.file("events.db");
  {
    test_server srv{db, quiet_config()};
    auto cli = raw_client(srv);
    REQUIRE(post(*cli, sub_path("a"), R"({"position":1})").status == 204);
    REQUIRE(put(*cli, sub_path("a"), R"({"position":11})").status == 204);
    REQUIRE(post(*cli, sub_path("%C3%A9t%C3%A9"), R"({"position":22})").status == 204);
    REQUIRE(put(*cli, sub_path("zero"), R"({"position":0})").status == 204);
    // The last save before the stop must be kept too.
    REQUIRE(put(*cli, sub_path("last"), R"({"position":33})").status == 204);
    srv.stop();
  }
  test_server srv{db, quiet_config()};
  auto cli = raw_client(srv);
  CHECK(get(*cli, sub_path("a")).body == "{\"position\":11}\n");
  CHECK(get(*cli, sub_path("%C3%A9t%C3%A9")).body == "{\"position\":22}\n");
  CHECK(get(*cli, sub_path("zero")).body == "{\"position\":0}\n");
  CHECK(get(*cli, sub_path("last")).body == "{\"position\":33}\n");
  CHECK(get(*cli, sub_path("never")).body == "{\"position\":0}\n");
  // And can be moved on after the restart.
  REQUIRE(post(*cli, sub_path("a"), R"({"position":12})").status == 204);
  CHECK(get(*cli, sub_path("a")).body == "{\"position\":12}\n");
}

TEST_CASE("DELETE forgets a subscription position, idempotently and durably",
          "[http][subscriptions]") {
  temp_dir dir;
  const auto db = dir.file("events.db");
  {
    test_server srv{db, quiet_config()};
    auto cli = raw_client(srv);
    REQUIRE(put(*cli, sub_path("gone"), R"({"position":7})").status == 204);
    REQUIRE(put(*cli, sub_path("kept"), R"({"position":9})").status == 204);
    auto del = to_reply(cli->Delete(sub_path("gone").c_str()));
    CHECK(del.status == 204);
    CHECK(del.body.empty());
    CHECK(get(*cli, sub_path("gone")).body == "{\"position\":0}\n");
    // An id that holds no position, or a second DELETE: 204 as well.
    CHECK(to_reply(cli->Delete(sub_path("gone").c_str())).status == 204);
    CHECK(to_reply(cli->Delete(sub_path("never-saved").c_str())).status == 204);
    auto bad = to_reply(cli->Delete(sub_path("a%01b").c_str()));
    CHECK(bad.status == 400);
    CHECK(json::parse(bad.body)["code"] == "invalid_subscription");
    srv.stop();
  }
  test_server srv{db, quiet_config()};
  auto cli = raw_client(srv);
  CHECK(get(*cli, sub_path("gone")).body == "{\"position\":0}\n");
  CHECK(get(*cli, sub_path("kept")).body == "{\"position\":9}\n");
  // Saved again after the delete, it starts over.
  REQUIRE(put(*cli, sub_path("gone"), R"({"position":2})").status == 204);
  CHECK(get(*cli, sub_path("gone")).body == "{\"position\":2}\n");
}
