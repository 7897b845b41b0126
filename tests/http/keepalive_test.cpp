// HTTP tests on raw sockets for a keep-alive connection after a request refused before
// its body was read: the next request is answered normally or the connection closes
// (`Connection: close`), and an unread body is never taken for a request. Also
// `Expect: 100-continue`, which is sent only once the head has been admitted.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

struct wire_reply {
  int status = -1;
  std::string head; ///< lower-cased, for header lookups
  std::string body;
  bool closes() const {
    return head.find("\r\nconnection: close\r\n") != std::string::npos;
  }
};

// Reads one response framed by Content-Length from `s`; `buf` keeps what follows it.
std::optional<wire_reply> next_reply(raw_socket& s, std::string& buf) {
  auto until = std::chrono::steady_clock::now() + 5s;
  bool open = true;
  for (;;) {
    auto end = buf.find("\r\n\r\n");
    if (end != std::string::npos) {
      wire_reply r;
      r.status = status_of(buf);
      r.head = buf.substr(0, end + 2);
      std::transform(r.head.begin(), r.head.end(), r.head.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::size_t length = 0;
      auto cl = r.head.find("\r\ncontent-length: ");
      if (cl != std::string::npos)
        length = std::stoul(r.head.substr(cl + 18));
      if (buf.size() >= end + 4 + length) {
        r.body = buf.substr(end + 4, length);
        buf.erase(0, end + 4 + length);
        return r;
      }
    }
    if (!open || std::chrono::steady_clock::now() > until)
      return std::nullopt;
    open = s.read_for(20ms, buf);
  }
}

std::string request(const std::string& line, const std::string& key, const std::string& body,
                    const std::string& extra = {}) {
  std::string out = line + " HTTP/1.1\r\nHost: x\r\n";
  if (!key.empty())
    out += "X-API-Key: " + key + "\r\n";
  out += extra;
  if (!body.empty())
    out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size())
           + "\r\n";
  return out + "\r\n" + body;
}

// After `first` (answered with `status`) on one connection: either the response said
// `Connection: close` and nothing more arrives before the server closes, or `follow`
// is answered with `follow_status` on the same connection.
void check_rejection(int port, const std::string& first, int status, const std::string& follow,
                     int follow_status) {
  raw_socket s{port};
  REQUIRE(s.connected());
  REQUIRE(s.send(first));
  std::string buf;
  auto r = next_reply(s, buf);
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->body.find("\"code\":") != std::string::npos);
  if (r->closes()) {
    bool closed = false;
    buf += s.read_all(5000ms, closed);
    CHECK(closed);
    CHECK(buf == std::string{});
    return;
  }
  REQUIRE(s.send(follow));
  auto next = next_reply(s, buf);
  REQUIRE(next);
  CHECK(next->status == follow_status);
}

const std::string event = R"({"type":"a","data":{"x":1}})";

// A request on its own, as an unread body: answered, it would be a smuggled request.
const std::string smuggled = "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: key-ok\r\n\r\n";

} // namespace

TEST_CASE("after every early rejection the connection serves the next request or closes",
          "[http][connection][keepalive]") {
  temp_dir dir;
  std::filesystem::create_directory(dir.file("broken.db"));
  auto cfg = quiet_config();
  cfg.max_body_bytes = 1024;
  test_server srv{tenants_in(dir, {"ok", "broken"}, {"admin-key"}), cfg};
  const auto follow = request("GET /position", "key-ok", {});
  int port = srv.port();

  SECTION("401: a wrong key") {
    check_rejection(port, request("POST /events", "wrong", event), 401, follow, 200);
  }
  SECTION("403: a tenant key on an admin route") {
    check_rejection(port, request("GET /admin/tenants/ok/backup", "key-ok", event), 403, follow,
                    200);
  }
  SECTION("404: an unknown path, GET and POST") {
    check_rejection(port, request("GET /nowhere", "key-ok", event), 404, follow, 200);
    check_rejection(port, request("POST /nowhere", "key-ok", event), 404, follow, 200);
  }
  SECTION("405: GET /events/batch with a body") {
    check_rejection(port, request("GET /events/batch", "key-ok", event), 405, follow, 200);
  }
  SECTION("413: a body announced larger than MAX_BODY_BYTES") {
    std::string big(2048, 'x');
    check_rejection(port, request("POST /events", "key-ok", big), 413, follow, 200);
  }
  SECTION("503: a tenant whose database cannot open") {
    check_rejection(port, request("POST /events", "key-broken", event), 503, follow, 200);
  }
  SECTION("a chunked body refused unread") {
    auto chunked = std::string{"POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: wrong\r\n"}
                   + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + "1b\r\n" + event + "\r\n0\r\n\r\n";
    check_rejection(port, chunked, 401, follow, 200);
  }
  SECTION("a refusal without a body keeps the connection open") {
    raw_socket s{port};
    REQUIRE(s.send(request("GET /position", "wrong", {})));
    std::string buf;
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK_FALSE(r->closes());
    REQUIRE(s.send(follow));
    auto next = next_reply(s, buf);
    REQUIRE(next);
    CHECK(next->status == 200);
  }
  // Nothing above disturbed the server.
  CHECK(get(*client_for(srv, "key-ok"), "/position").status == 200);
}

TEST_CASE("after a 429 the connection serves the next request or closes",
          "[http][connection][keepalive]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.rate_limit = 1;
  cfg.rate_burst = 1;
  // A clock that stands still: no token comes back while the test runs.
  test_server srv{tenants_in(dir, {"ok"}), cfg, [](http_options& o) {
                    o.rate_limits.clock = [] { return int64_t{1} << 40; };
                  }};
  raw_socket s{srv.port()};
  std::string buf;
  REQUIRE(s.send(request("GET /position", "key-ok", {})));
  auto first = next_reply(s, buf);
  REQUIRE(first);
  REQUIRE(first->status == 200);
  s.close();
  // The token is spent: every later request is refused; the refusal of one with a body
  // must not leave that body to be read as the next request (which would be a 400).
  check_rejection(srv.port(), request("POST /events", "key-ok", event), 429,
                  request("GET /position", "key-ok", {}), 429);
}

TEST_CASE("a refused request whose body is another request never gets it answered",
          "[http][connection][keepalive][security]") {
  temp_dir dir;
  test_server srv{tenants_in(dir, {"ok"}), quiet_config()};
  for (const char* line : {"POST /events", "GET /position", "GET /events/batch", "POST /nowhere"}) {
    CAPTURE(line);
    raw_socket s{srv.port()};
    REQUIRE(s.send(request(line, "wrong", smuggled)));
    bool closed = false;
    auto got = s.read_all(3000ms, closed);
    CHECK(count_responses(got) == 1);
    CHECK(got.find("\"position\"") == std::string::npos);
    CHECK(closed);
  }
  // The same text as a request of its own is served: the test above could fail.
  raw_socket s{srv.port()};
  REQUIRE(s.send(smuggled));
  std::string buf;
  auto r = next_reply(s, buf);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body.find("\"position\"") != std::string::npos);
}

TEST_CASE("a head that gives no usable body length is answered at once, not at READ_TIMEOUT",
          "[http][connection][keepalive]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.read_timeout = 120s; // next_reply waits 5 s: a read until the deadline fails it
  test_server srv{tenants_in(dir, {"ok"}), cfg};
  // PATCH and PRI without a length have an empty body (the library would read until the
  // client closes); the connection then serves the next request.
  for (const char* line : {"PATCH /events", "PATCH /subscriptions/a/position"}) {
    CAPTURE(line);
    raw_socket s{srv.port()};
    REQUIRE(s.send(request(line, "key-ok", "")));
    std::string buf;
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->body.find("\"method_not_allowed\"") != std::string::npos);
    REQUIRE(s.send(request("GET /position", "key-ok", "")));
    auto next = next_reply(s, buf);
    REQUIRE(next);
    CHECK(next->status == 200);
  }
  {
    raw_socket s{srv.port()}; // a method no route has: the library refuses it
    REQUIRE(s.send(request("PRI /events", "key-ok", "")));
    std::string buf;
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->body.find("\"http_400\"") != std::string::npos);
  }
  // A transfer coding other than chunked: refused, and the connection closes.
  for (const char* coding : {"gzip, chunked", "gzip", "identity"}) {
    CAPTURE(coding);
    raw_socket s{srv.port()};
    REQUIRE(s.send(request("POST /events", "key-ok", "", std::string{"Transfer-Encoding: "}
                                                          + coding + "\r\n")
                   + "5\r\n{\"a\":\r\n0\r\n\r\n"));
    std::string buf;
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(r->body.find("Transfer-Encoding other than chunked") != std::string::npos);
    CHECK(r->closes());
  }
  CHECK(get(*client_for(srv, "key-ok"), "/position").body == "{\"position\":0}\n");
}

TEST_CASE("Expect: 100-continue is sent only after the head is admitted",
          "[http][connection][keepalive]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_body_bytes = 1024;
  test_server srv{tenants_in(dir, {"ok"}), cfg};
  const std::string expect = "Expect: 100-continue\r\n";

  // The head only: the client waits for `100 Continue` before it sends the body.
  auto head_only = [&](const std::string& line, const std::string& key, std::size_t length) {
    return line + " HTTP/1.1\r\nHost: x\r\nX-API-Key: " + key + "\r\n" + expect
           + "Content-Type: application/json\r\nContent-Length: " + std::to_string(length)
           + "\r\n\r\n";
  };
  auto refused = [&](const std::string& head, int status) {
    raw_socket s{srv.port()};
    REQUIRE(s.send(head));
    std::string buf;
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == status);
    CHECK(r->closes());
    bool closed = false;
    buf += s.read_all(5000ms, closed);
    CHECK(closed);
    CHECK(buf == std::string{});
  };
  SECTION("a wrong key: 401, no 100") {
    refused(head_only("POST /events", "wrong", event.size()), 401);
  }
  SECTION("an unknown path: 404, no 100") {
    refused(head_only("POST /nowhere", "key-ok", event.size()), 404);
  }
  SECTION("a method the route does not take: 405, no 100") {
    refused(head_only("PUT /events", "key-ok", event.size()), 405);
  }
  SECTION("a body announced too large: 413, no 100") {
    refused(head_only("POST /events", "key-ok", 4096), 413);
  }
  SECTION("an admitted head gets 100, then the response to its body") {
    raw_socket s{srv.port()};
    REQUIRE(s.send(head_only("POST /events", "key-ok", event.size())));
    std::string buf;
    auto until = std::chrono::steady_clock::now() + 5s;
    while (buf.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < until)
      REQUIRE(s.read_for(20ms, buf));
    REQUIRE(buf.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
    buf.erase(0, 25);
    REQUIRE(s.send(event));
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK_FALSE(r->closes());
    // The connection stays usable.
    REQUIRE(s.send(request("GET /position", "key-ok", {})));
    auto next = next_reply(s, buf);
    REQUIRE(next);
    CHECK(next->body == "{\"position\":1}\n");
  }
}

TEST_CASE("Expect: 100-continue over the client limit is refused without 100",
          "[http][connection][keepalive][ratelimit]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.rate_limit = 1;
  cfg.rate_burst = 1;
  test_server srv{tenants_in(dir, {"ok"}), cfg, [](http_options& o) {
                    o.rate_limits.clock = [] { return int64_t{1} << 40; };
                  }};
  const auto head = "POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: key-ok\r\n"
                    "Expect: 100-continue\r\nContent-Type: application/json\r\n"
                    "Content-Length: "
                    + std::to_string(event.size()) + "\r\n\r\n";
  {
    // The one token: this head is admitted (100), its body sent and answered. Admitted
    // once: were the head checked again after 100, this would be a 429.
    raw_socket s{srv.port()};
    REQUIRE(s.send(head));
    std::string buf;
    auto until = std::chrono::steady_clock::now() + 5s;
    while (buf.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < until)
      REQUIRE(s.read_for(20ms, buf));
    REQUIRE(buf.rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
    buf.erase(0, 25);
    REQUIRE(s.send(event));
    auto r = next_reply(s, buf);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  raw_socket s{srv.port()};
  REQUIRE(s.send(head));
  std::string buf;
  auto r = next_reply(s, buf);
  REQUIRE(r);
  CHECK(r->status == 429);
  CHECK(r->closes());
}
