// HTTP tests for connection deadlines: slow requests cut off, idle keep-alive closed,
// idle connections holding no worker.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

TEST_CASE("a client trickling its request is cut off at READ_TIMEOUT", "[http][timeouts]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.read_timeout = 800ms;
  test_server srv{dir.file("events.db"), cfg};

  SECTION("headers, one byte at a time") {
    raw_socket s{srv.port()};
    REQUIRE(s.connected());
    const std::string req = "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n";
    auto start = std::chrono::steady_clock::now();
    std::string got;
    bool open = true;
    // The request line at once, then the headers a byte at a time.
    size_t sent = 24;
    REQUIRE(s.send(req.substr(0, sent)));
    // Each byte comes well within any per-read timeout; the whole request does not.
    while (open && sent < req.size()) {
      open = s.send(req.substr(sent++, 1)) && s.read_for(200ms, got);
    }
    auto took = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(open);
    CHECK(sent < req.size());
    CHECK(took < 3s);
    // Once it has a request line, the server says why before closing (before that,
    // there is nothing to answer).
    CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
    CHECK(got.find("\"code\":\"http_408\"") != std::string::npos);
  }
  SECTION("a body that never completes") {
    raw_socket s{srv.port()};
    REQUIRE(s.send("POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                   "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"type\""));
    std::string got;
    CHECK_FALSE(s.read_for(3000ms, got)); // closed well before 3 s
    CHECK(got.find("HTTP/1.1 400") == 0);
    CHECK(srv.get_tenant()->stats().head.load() == 0);
  }
  SECTION("a connection that never sends anything") {
    raw_socket s{srv.port()};
    std::string got;
    CHECK_FALSE(s.read_for(3000ms, got));
    CHECK(got.empty());
  }
  // Normal clients are unaffected.
  CHECK(get(*srv.client(), "/position").status == 200);
}

TEST_CASE("an idle keep-alive connection is closed at IDLE_TIMEOUT", "[http][timeouts]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.idle_timeout = 500ms;
  cfg.read_timeout = 5s;
  test_server srv{dir.file("events.db"), cfg};
  raw_socket s{srv.port()};
  const std::string req = "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n";
  std::string got;
  REQUIRE(s.send(req));
  CHECK(s.read_for(300ms, got)); // the response; the connection stays open
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  // A second request within the idle time is served on the same connection, which
  // is then closed once idle for 500 ms.
  got.clear();
  auto idle_from = std::chrono::steady_clock::now();
  REQUIRE(s.send(req));
  CHECK_FALSE(s.read_for(3000ms, got));
  auto idle = std::chrono::steady_clock::now() - idle_from;
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(idle >= 450ms);
  CHECK(idle < 2s);
}

TEST_CASE("idle connections hold no worker", "[http][timeouts]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.http_threads = 2;
  cfg.idle_timeout = 60s; // longer than the test
  test_server srv{dir.file("events.db"), cfg};
  const std::string req = "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n";
  raw_socket a{srv.port()}, b{srv.port()};
  std::string got;
  REQUIRE(a.send(req));
  CHECK(a.read_for(300ms, got));
  REQUIRE(b.send(req));
  CHECK(b.read_for(300ms, got));
  // Both workers now hold an idle connection; a third client is still served at once.
  auto start = std::chrono::steady_clock::now();
  auto cli = srv.client();
  cli->set_keep_alive(false);
  CHECK(get(*cli, "/position").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  // Both idle connections are still open and served.
  got.clear();
  REQUIRE(a.send(req));
  CHECK(a.read_responses(2s, got));
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("stopping closes idle connections at once", "[http][timeouts]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.idle_timeout = 60s;
  test_server srv{dir.file("events.db"), cfg};
  raw_socket s{srv.port()};
  std::string got;
  REQUIRE(s.send("GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n"));
  CHECK(s.read_for(300ms, got));
  auto start = std::chrono::steady_clock::now();
  srv.stop(); // joins every worker: returns only once the idle connection is gone
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  got.clear();
  CHECK_FALSE(s.read_for(500ms, got));
}

// Response bytes are buffered until the response ends; the interim `100 Continue` must
// still reach a client that waits for it before sending its body.
TEST_CASE("a client that expects 100-continue gets it before sending its body",
          "[http][connection]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  raw_socket s{srv.port()};
  REQUIRE(s.connected());
  const std::string body = R"({"type":"a","data":{"x":1}})";
  REQUIRE(s.send("POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                 "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                 "Content-Length: "
                 + std::to_string(body.size()) + "\r\n\r\n"));
  std::string got;
  auto until = std::chrono::steady_clock::now() + 2s;
  while (got.find("\r\n\r\n") == std::string::npos && std::chrono::steady_clock::now() < until)
    REQUIRE(s.read_for(50ms, got));
  REQUIRE(got.rfind("HTTP/1.1 100 Continue\r\n", 0) == 0);
  REQUIRE(s.send(body));
  until = std::chrono::steady_clock::now() + 2s;
  while (got.find("\"position\":1") == std::string::npos
         && std::chrono::steady_clock::now() < until)
    REQUIRE(s.read_for(50ms, got));
  CHECK(got.find("HTTP/1.1 200 OK\r\n") != std::string::npos);
  CHECK(got.find("\"position\":1") != std::string::npos);
  // The connection stays usable.
  REQUIRE(s.send("GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n"));
  until = std::chrono::steady_clock::now() + 2s;
  while (got.find("{\"position\":1}") == std::string::npos
         && std::chrono::steady_clock::now() < until)
    REQUIRE(s.read_for(50ms, got));
  CHECK(got.find("{\"position\":1}") != std::string::npos);
}
