// Hostile HTTP against the real binary: oversized heads, ambiguous framing, pipelining,
// slow clients. Connection floods and vanishing clients: connections_test.cpp.
#include <thread>

#include <catch2/catch.hpp>

#include "reliability/child_server.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

const std::string key_header = "X-API-Key: hostile-key\r\n";

std::vector<std::string> env_for(const temp_dir& dir, std::vector<std::string> extra = {}) {
  std::vector<std::string> env{"PORT=0", "HOST=127.0.0.1", "API_KEY=hostile-key",
                               "DB_PATH=" + dir.file("h.db"), "LOG_LEVEL=info",
                               "RATE_LIMIT=0", "READ_TIMEOUT=1s", "IDLE_TIMEOUT=2s",
                               "HTTP_THREADS=8"};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::string get_position() {
  return "GET /position HTTP/1.1\r\nHost: t\r\n" + key_header + "\r\n";
}

std::string post_event(const std::string& extra_headers, const std::string& body) {
  return "POST /events HTTP/1.1\r\nHost: t\r\n" + key_header + extra_headers + "\r\n" + body;
}

// One request on a fresh connection; the raw response and whether the server closed.
std::string exchange(int port, const std::string& raw, bool& closed,
                     std::chrono::milliseconds wait = 3000ms) {
  raw_socket s{port};
  REQUIRE(s.ok());
  s.send(raw);
  return s.read_all(wait, closed);
}

// The server still answers a normal request.
void check_serving(int port) {
  bool closed;
  auto r = exchange(port, get_position(), closed, 500ms);
  CHECK(status_of(r) == 200);
}

} // namespace

TEST_CASE("oversized request heads get 414 and 431 and the connection is closed",
          "[hostile]") {
  temp_dir dir;
  child_server srv{env_for(dir)};
  REQUIRE(srv.port() > 0);
  bool closed = false;
  auto url = "GET /position?x=" + std::string(9000, 'a') + " HTTP/1.1\r\n" + key_header + "\r\n";
  auto r = exchange(srv.port(), url, closed);
  CHECK(status_of(r) == 414);
  CHECK(r.find("\"code\":\"http_414\"") != std::string::npos);
  CHECK(closed);
  auto long_line = "GET /position HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n"
                   + key_header + "\r\n";
  r = exchange(srv.port(), long_line, closed);
  CHECK(status_of(r) == 431);
  CHECK(r.find("\"code\":\"http_431\"") != std::string::npos);
  CHECK(closed);
  // Many short header lines: 64 KiB in all is the limit.
  std::string many = "GET /position HTTP/1.1\r\n" + key_header;
  for (int i = 0; i < 8000; ++i)
    many += "X-H" + std::to_string(i) + ": v\r\n";
  r = exchange(srv.port(), many + "\r\n", closed);
  CHECK(status_of(r) == 431);
  CHECK(closed);
  // A header line of 8 KiB without its end is not buffered without bound either.
  raw_socket endless{srv.port()};
  endless.send("GET /position HTTP/1.1\r\nX-Endless: ");
  bool sent = true;
  for (int i = 0; i < 64 && sent; ++i)
    sent = endless.send(std::string(4096, 'b'));
  r = endless.read_all(3000ms, closed);
  CHECK(status_of(r) == 431);
  // Just under the limits is fine.
  auto fits = "GET /position HTTP/1.1\r\nX-Big: " + std::string(8000, 'a') + "\r\n" + key_header
              + "\r\n";
  CHECK(status_of(exchange(srv.port(), fits, closed, 500ms)) == 200);
  check_serving(srv.port());
}

TEST_CASE("ambiguous framing is rejected with 400 and nothing is smuggled", "[hostile]") {
  temp_dir dir;
  child_server srv{env_for(dir)};
  REQUIRE(srv.port() > 0);
  std::string body = R"({"type":"a","data":1})";
  // A second request hidden in the body as one framing would see it.
  std::string smuggled = "GET /events?from=0 HTTP/1.1\r\n" + key_header + "\r\n";
  std::string chunked = "15\r\n" + body + "\r\n0\r\n\r\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", chunked + smuggled},
    {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", chunked + smuggled},
    {"Content-Length: 21\r\nContent-Length: 5\r\n", body + smuggled},
    {"Content-Length: 21\r\nContent-Length: 21\r\n", body + smuggled},
    {"Content-Length: -1\r\n", body + smuggled},
    {"Content-Length: 0x15\r\n", body + smuggled},
    {"Content-Length:  21 \r\nContent-Length: 5\r\n", body + smuggled},
    {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", chunked + smuggled},
  };
  for (const auto& [headers, payload] : cases) {
    INFO(headers);
    bool closed = false;
    auto r = exchange(srv.port(), post_event(headers, payload), closed);
    CHECK(status_of(r) == 400);
    CHECK(r.find("\"code\":\"http_400\"") != std::string::npos);
    CHECK(count_responses(r) == 1);
    CHECK(closed);
  }
  // Nothing was written.
  bool closed;
  CHECK(exchange(srv.port(), get_position(), closed, 500ms).find("{\"position\":0}")
        != std::string::npos);
  // A chunked body over MAX_BODY_BYTES: 413, and its unread rest is not parsed as
  // requests (the connection is closed).
  child_server small{env_for(dir, {"MAX_BODY_BYTES=1024", "DB_PATH=" + dir.file("s.db")})};
  std::string big = "{\"type\":\"a\",\"data\":\"" + std::string(2000, 'x') + "\"}";
  std::string hex = "7e6"; // 2022 bytes
  REQUIRE(big.size() == 0x7e6);
  auto r = exchange(small.port(),
                    post_event("Transfer-Encoding: chunked\r\n",
                               hex + "\r\n" + big + "\r\n" + "0\r\n\r\n" + get_position()),
                    closed);
  CHECK(status_of(r) == 413);
  CHECK(count_responses(r) == 1);
  CHECK(closed);
}

TEST_CASE("pipelined requests are all answered, in order", "[hostile]") {
  temp_dir dir;
  child_server srv{env_for(dir)};
  REQUIRE(srv.port() > 0);
  raw_socket s{srv.port()};
  std::string body = R"({"type":"a","data":1})";
  s.send(get_position() + post_event("Content-Length: 21\r\n", body) + get_position()
         + post_event("Content-Length: 21\r\n", body) + get_position());
  auto r = s.read_all(1500ms);
  CHECK(count_responses(r) == 5);
  auto p0 = r.find("{\"position\":0}");
  auto e1 = r.find("{\"position\":1,");
  auto p1 = r.find("{\"position\":1}");
  auto e2 = r.find("{\"position\":2,");
  auto p2 = r.find("{\"position\":2}");
  CHECK(p0 < e1);
  CHECK(e1 < p1);
  CHECK(p1 < e2);
  CHECK(e2 < p2);
  CHECK(p2 != std::string::npos);
}

TEST_CASE("slow clients are cut off after READ_TIMEOUT and others keep being served",
          "[hostile]") {
  temp_dir dir;
  child_server srv{env_for(dir)};
  REQUIRE(srv.port() > 0);
  // Stalled head and stalled body: closed after READ_TIMEOUT (1s), nothing written.
  raw_socket head{srv.port()};
  head.send("GET /position HTTP/1.1\r\nHost: t\r\n");
  raw_socket body{srv.port()};
  body.send(post_event("Content-Length: 100\r\n", R"({"type":"a",)"));
  auto start = std::chrono::steady_clock::now();
  bool closed_head = false, closed_body = false;
  auto rh = head.read_all(5000ms, closed_head);
  auto rb = body.read_all(5000ms, closed_body);
  CHECK(closed_head);
  CHECK(closed_body);
  CHECK(status_of(rb) == 400);
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  // Tricklers (a byte every 100 ms, so no single read times out) hold half the workers;
  // everyone else is still served meanwhile.
  std::vector<std::unique_ptr<raw_socket>> tricklers;
  for (int i = 0; i < 4; ++i)
    tricklers.push_back(std::make_unique<raw_socket>(srv.port()));
  std::string slow = get_position();
  for (size_t i = 0; i < 15; ++i) {
    for (auto& t : tricklers)
      t->send(slow.substr(i, 1));
    check_serving(srv.port());
    std::this_thread::sleep_for(100ms);
  }
  tricklers.clear();
  bool closed;
  CHECK(status_of(exchange(srv.port(), get_position(), closed, 1000ms)) == 200);
  CHECK(exchange(srv.port(), get_position(), closed, 500ms).find("{\"position\":0}")
        != std::string::npos);
}
