// HTTP tests for the server as a whole: auth, routing errors, limits, status endpoints.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <memory>
#include <string>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

TEST_CASE("API keys are required except for /health", "[http][server][auth]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto anon = srv.client(false);

  const std::string key = test_server::key;
  struct req {
    const char* method;
    const char* path;
  };
  const req protected_routes[] = {
    {"GET", "/events?from=0"},  {"POST", "/events"},   {"POST", "/events/batch"},
    {"GET", "/events/stream?from=0"}, {"GET", "/position"}, {"GET", "/metrics"},
    {"GET", "/subscriptions/a/position"}, {"PUT", "/subscriptions/a/position"},
  };
  const httplib::Headers bad_headers[] = {
    {},
    {{"X-API-Key", "wrong"}},
    {{"X-API-Key", key + "x"}},
    {{"X-API-Key", key.substr(0, key.size() - 1)}},
    {{"Authorization", "Bearer wrong"}},
    {{"Authorization", "Bearer "}},
    {{"Authorization", "Basic dGVzdDprZXk="}},
    {{"X-API-Key", "wrong"}, {"Authorization", "Bearer " + key}},
  };
  for (const auto& r : protected_routes) {
    for (const auto& h : bad_headers) {
      INFO(r.method << " " << r.path << " with " << h.size() << " auth headers"
                    << (h.empty() ? "" : ": " + h.begin()->second));
      auto res = std::string{r.method} == "GET"
                   ? get(*anon, r.path, h)
                   : (std::string{r.method} == "PUT"
                        ? put(*anon, r.path, R"({"position":1})", h)
                        : post(*anon, r.path, R"({"type":"a","data":1})", h));
      check_error(res, 401, "unauthorized");
    }
  }
  // Nothing was written by the rejected requests.
  auto cli = srv.client();
  CHECK(get(*cli, "/position").body == "{\"position\":0}\n");
  CHECK(get(*cli, "/subscriptions/a/position").body == "{\"position\":0}\n");

  // Both ways of presenting the key work.
  auto r = post(*anon, "/events", R"({"type":"a","data":1})", {{"X-API-Key", key}});
  CHECK(r.status == 200);
  r = post(*anon, "/events", R"({"type":"a","data":2})", {{"Authorization", "Bearer " + key}});
  CHECK(r.status == 200);
  CHECK(get(*anon, "/position", {{"Authorization", "Bearer " + key}}).body
        == "{\"position\":2}\n");
  // Header names are case-insensitive.
  CHECK(get(*anon, "/position", {{"x-api-key", key}}).status == 200);
  CHECK(get(*anon, "/position", {{"authorization", "Bearer " + key}}).status == 200);

  // /health needs no key (and ignores a wrong one).
  r = get(*anon, "/health");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "{\"status\":\"healthy\"}\n");
  CHECK(get(*anon, "/health", {{"X-API-Key", "wrong"}}).status == 200);
}

TEST_CASE("unknown paths are 404 and wrong methods 405 with Allow", "[http][server]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  for (const char* path : {"/", "/nope", "/event", "/events/", "/events/batch/x",
                           "/subscriptions", "/positions", "/health/x"}) {
    INFO(path);
    check_error(get(*cli, path), 404, "not_found");
    check_error(post(*cli, path, "{}"), 404, "not_found");
  }

  struct row {
    const char* method;
    const char* path;
    const char* allow;
  };
  const row rows[] = {
    {"DELETE", "/events", "GET, POST"},
    {"PUT", "/events", "GET, POST"},
    {"PATCH", "/events", "GET, POST"},
    {"GET", "/events/batch", "POST"},
    {"DELETE", "/events/batch", "POST"},
    {"POST", "/events/stream", "GET"},
    {"POST", "/position", "GET"},
    {"DELETE", "/health", "GET"},
    {"POST", "/metrics", "GET"},
    {"PATCH", "/subscriptions/a/position", "GET, POST, PUT, DELETE"},
  };
  for (const auto& x : rows) {
    INFO(x.method << " " << x.path);
    httplib::Request req;
    req.method = x.method;
    req.path = x.path;
    req.headers = {{"X-API-Key", test_server::key}};
    if (std::string{x.method} != "GET" && std::string{x.method} != "DELETE") {
      req.body = "{}";
      req.set_header("Content-Type", "application/json");
    }
    auto r = to_reply(cli->send(req));
    check_error(r, 405, "method_not_allowed");
    CHECK(r.header("Allow") == x.allow);
  }
  // The wrong-method requests changed nothing.
  CHECK(get(*cli, "/position").body == "{\"position\":0}\n");
}

TEST_CASE("bodies larger than MAX_BODY_BYTES are rejected with 413", "[http][server]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_body_bytes = 2048;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();

  auto body_of_size = [](size_t n) {
    std::string prefix = R"({"type":"big","data":")";
    std::string suffix = R"("})";
    return prefix + std::string(n - prefix.size() - suffix.size(), 'x') + suffix;
  };
  REQUIRE(body_of_size(2048).size() == 2048);
  CHECK(post(*cli, "/events", body_of_size(2000)).status == 200);
  CHECK(post(*cli, "/events", body_of_size(2048)).status == 200);
  check_error(post(*cli, "/events", body_of_size(2049)), 413, "payload_too_large");
  check_error(post(*cli, "/events", body_of_size(64 * 1024)), 413, "payload_too_large");
  check_error(post(*cli, "/events/batch", make_batch(1, 100)), 413, "payload_too_large");
  check_error(put(*cli, "/subscriptions/a/position",
                  R"({"position":1})" + std::string(4096, ' ')),
              413, "payload_too_large");
  // Only the two small events were written; the server still answers.
  CHECK(get(*cli, "/position").body == "{\"position\":2}\n");
  CHECK(get(*cli, "/subscriptions/a/position").body == "{\"position\":0}\n");
}

TEST_CASE("GET /position and /metrics report the committed head", "[http][server]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  auto r = get(*cli, "/position");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "{\"position\":0}\n");

  auto metrics = [&] {
    auto m = get(*cli, "/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.header("Content-Type") == "application/json");
    auto j = json::parse(m.body, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    REQUIRE(j.is_object());
    return j;
  };
  auto before = std::time(nullptr);
  auto m = metrics();
  auto after = std::time(nullptr);
  REQUIRE(m.contains("total_events"));
  CHECK(m["total_events"] == 0);
  REQUIRE(m.contains("timestamp"));
  REQUIRE(m["timestamp"].is_number_integer());
  CHECK(m["timestamp"].get<int64_t>() >= before - 1);
  CHECK(m["timestamp"].get<int64_t>() <= after + 1);
  CHECK_FALSE(m.contains("tenant"));

  seed(*cli, 1200);
  REQUIRE(post(*cli, "/events", R"({"type":"a","data":1})").status == 200);
  CHECK(get(*cli, "/position").body == "{\"position\":1201}\n");
  CHECK(metrics()["total_events"] == 1201);

  // Failed writes do not move the head.
  REQUIRE(post(*cli, "/events/batch", "[]").status == 400);
  CHECK(get(*cli, "/position").body == "{\"position\":1201}\n");
}

TEST_CASE("the body limit also holds for chunked and gzip-encoded request bodies",
          "[http][server][limits]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_body_bytes = 2048;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  const std::string big = R"({"type":"big","data":")" + std::string(64 * 1024, 'x') + R"("})";

  // Transfer-Encoding: chunked carries no Content-Length to check up front.
  auto chunked = to_reply(cli->Post(
    "/events", httplib::Headers{},
    [&big](size_t offset, httplib::DataSink& sink) {
      constexpr size_t piece = 1024;
      if (offset >= big.size()) {
        sink.done();
        return true;
      }
      return sink.write(big.data() + offset, std::min(piece, big.size() - offset));
    },
    "application/json"));
  check_error(chunked, 413, "payload_too_large");

  // A gzip-encoded body: small on the wire, 64 KiB once inflated.
  auto gz = srv.client();
  gz->set_compress(true);
  auto compressed = post(*gz, "/events", big);
  check_error(compressed, 413, "payload_too_large");

  CHECK(get(*cli, "/position").body == "{\"position\":0}\n");
}
