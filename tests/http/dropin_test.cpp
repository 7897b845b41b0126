// Drop-in behaviour over raw sockets: unclean paths (a base URL with a trailing slash)
// served as their clean form, and subscription ids as long as a request line carries.
#include <catch2/catch.hpp>

#include <string>

#include <sqlite3.h>

#include "storage/event_store.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

// One request on its own connection, bytes exactly as given; the raw response.
std::string exchange(int port, const std::string& method, const std::string& target,
                     const std::string& body = {}) {
  raw_socket s{port};
  REQUIRE(s.ok());
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\nX-API-Key: "
                    + test_server::key + "\r\nConnection: close\r\n";
  if (!body.empty() || method != "GET")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
           + "\r\n";
  req += "\r\n" + body;
  REQUIRE(s.send(req));
  return s.read_all(10000ms);
}

std::string body_of(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? std::string{} : response.substr(at + 4);
}

} // namespace

TEST_CASE("a base URL with a trailing slash reaches the same routes", "[http][dropin]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  int port = srv.port();
  // The original's Go client with base URL "http://host/" sends these.
  auto w = exchange(port, "POST", "//events", event_body("a", "1"));
  REQUIRE(status_of(w) == 200);
  CHECK(json::parse(body_of(w))["position"] == 1);
  CHECK(status_of(exchange(port, "POST", "//events/batch", make_batch(2, 2))) == 200);
  auto pos = exchange(port, "GET", "//position");
  CHECK(status_of(pos) == 200);
  CHECK(body_of(pos) == "{\"position\":3}\n");
  CHECK(parse_array(body_of(exchange(port, "GET", "//events?from=1"))).size() == 3);
  CHECK(body_of(exchange(port, "GET", "/events//stream?from=2")).find("\"position\":3")
        != std::string::npos);
  CHECK(status_of(exchange(port, "POST", "//subscriptions/s/position", R"({"position":2})"))
        == 204);
  CHECK(body_of(exchange(port, "GET", "//subscriptions//s//position")) == "{\"position\":2}\n");
  // Dot segments are resolved as Go's path.Clean resolves them.
  CHECK(body_of(exchange(port, "GET", "/./position")) == "{\"position\":3}\n");
  CHECK(body_of(exchange(port, "GET", "/events/../position")) == "{\"position\":3}\n");
  CHECK(body_of(exchange(port, "GET", "/../../position")) == "{\"position\":3}\n");
  CHECK(status_of(exchange(port, "GET", "//health")) == 200);
  // A trailing slash is kept, as there: no such route.
  auto trailing = exchange(port, "GET", "/position/");
  CHECK(status_of(trailing) == 404);
  CHECK(body_of(trailing).find("\"code\":\"not_found\"") != std::string::npos);
  // The cleaned path is what metrics count under the route.
  auto m = json::parse(body_of(exchange(port, "GET", "/metrics")));
  CHECK(m["http"]["routes"]["position"]["2xx"] == 4);
}

TEST_CASE("subscription ids longer than 256 bytes are readable and writable",
          "[sqlite][http][dropin][subscriptions]") {
  temp_dir dir;
  const auto path = dir.file("events.db");
  // Saved by the original: it took any id its request line could carry.
  const std::string long_id(5000, 'x');
  REQUIRE(ebuse::store_writer::open(path));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql =
    "INSERT INTO subscriptions (subscription_id, position) VALUES ('" + long_id + "', 41)";
  REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  test_server srv{path, quiet_config()};
  int port = srv.port();
  auto r = exchange(port, "GET", "/subscriptions/" + long_id + "/position");
  CHECK(status_of(r) == 200);
  CHECK(body_of(r) == "{\"position\":41}\n");
  CHECK(status_of(exchange(port, "PUT", "/subscriptions/" + long_id + "/position",
                           R"({"position":42})"))
        == 204);
  CHECK(body_of(exchange(port, "GET", "/subscriptions/" + long_id + "/position"))
        == "{\"position\":42}\n");
  // As long as the request line allows (8 KiB), percent-encoded bytes included.
  const std::string id8k(8100, 'y');
  CHECK(status_of(exchange(port, "POST", "/subscriptions/" + id8k + "/position",
                           R"({"position":7})"))
        == 204);
  CHECK(body_of(exchange(port, "GET", "/subscriptions/" + id8k + "/position"))
        == "{\"position\":7}\n");
  std::string utf8_id;
  for (int i = 0; i < 600; ++i)
    utf8_id += "%C3%A9"; // 1200 bytes once decoded
  CHECK(status_of(exchange(port, "PUT", "/subscriptions/" + utf8_id + "/position",
                           R"({"position":8})"))
        == 204);
  CHECK(body_of(exchange(port, "GET", "/subscriptions/" + utf8_id + "/position"))
        == "{\"position\":8}\n");
  // Past the request line's limit: refused by the parser, nothing stored.
  auto too_long = exchange(port, "GET", "/subscriptions/" + std::string(9000, 'z') + "/position");
  CHECK(status_of(too_long) == 414);
  CHECK(body_of(too_long).find("\"code\":\"http_414\"") != std::string::npos);
}

TEST_CASE("header values are read as sent, '%' included, as the Go server reads them",
          "[http][dropin]") {
  temp_dir dir;
  ebuse::registry_options tenants;
  tenants.tenants.push_back(ebuse::tenant_spec{"shop", dir.file("shop.db"), ebuse::digest_of("k%41"), ""});
  test_server srv{tenants, quiet_config()};
  // The key as configured opens the tenant; its URL-decoded spelling does not.
  auto shop = client_for(srv, "k%41");
  CHECK(get(*shop, "/position").status == 200);
  check_error(get(*client_for(srv, "kA"), "/position"), 401, "unauthorized");
  // Two Idempotency-Keys that differ only in a '%' escape are two keys.
  const std::string event = R"({"type":"a","data":1})";
  CHECK(post(*shop, "/events", event, {{"Idempotency-Key", "id%41"}}).status == 200);
  CHECK(post(*shop, "/events", event, {{"Idempotency-Key", "idA"}}).status == 200);
  CHECK(post(*shop, "/events", event, {{"Idempotency-Key", "id%41"}}).status == 200); // replay
  CHECK(get(*shop, "/position").body == "{\"position\":2}\n");
  // A fork names its source by URL path, escaped once: stream "s%41" is "s%2541".
  auto put_stream = [&](const std::string& path, const std::string& body,
                        const httplib::Headers& h) {
    return to_reply(shop->Put(("/v1/stream/" + path).c_str(), h, body, "text/plain"));
  };
  REQUIRE(put_stream("s%2541", "percent", {}).status == 201);
  REQUIRE(put_stream("sA", "letter", {}).status == 201);
  REQUIRE(put_stream("f", "", {{"Stream-Forked-From", "/v1/stream/s%2541"}}).status == 201);
  CHECK(get(*shop, "/v1/stream/f?offset=-1").body == "percent");
}
