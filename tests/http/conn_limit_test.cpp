// HTTP tests for MAX_CONNS_PER_IP: connections over the cap from one address are
// answered 429 and closed at accept, a slot comes back when a connection closes, and
// TRUSTED_PROXIES peers are exempt.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

const std::string position_request =
  "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n";

// Sends a request on a new connection; what came back before the server closed or 2 s.
std::string exchange(int port, bool& closed) {
  raw_socket s{port};
  if (!s.send(position_request)) {
    closed = true;
    return {};
  }
  return s.read_all(2000ms, closed);
}

std::vector<std::unique_ptr<raw_socket>> hold(int port, int n) {
  std::vector<std::unique_ptr<raw_socket>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::make_unique<raw_socket>(port));
  return out;
}

} // namespace

TEST_CASE("connections over MAX_CONNS_PER_IP get 429 at accept; a closed one frees a slot",
          "[http][connection][limits]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_conns_per_ip = 3;
  test_server srv{dir.file("events.db"), cfg};
  // Three silent connections hold the address's slots (accepted in order, before the
  // fourth).
  auto held = hold(srv.port(), 3);
  bool closed = false;
  auto got = exchange(srv.port(), closed);
  CHECK(status_of(got) == 429);
  CHECK(got.find("\"code\":\"too_many_connections\"") != std::string::npos);
  CHECK(got.find("Connection: close\r\n") != std::string::npos);
  CHECK(got.find("Retry-After: 1\r\n") != std::string::npos);
  CHECK(closed);
  // Every accepted connection counted: the held ones are answered normally.
  REQUIRE(held[0]->send(position_request));
  std::string first;
  CHECK(held[0]->read_for(300ms, first));
  CHECK(status_of(first) == 200);
  // One closes: its slot is released once its worker has seen it go.
  held[1]->close();
  CHECK(eventually([&] {
    bool c = false;
    return status_of(exchange(srv.port(), c)) == 200;
  }));
  // Counted in /metrics (once the connections above are released, the request gets a slot).
  held.clear();
  json m;
  CHECK(eventually([&] {
    auto r = get(*srv.client(), "/metrics");
    if (r.status != 200)
      return false;
    m = json::parse(r.body);
    return true;
  }));
  CHECK(m["http"]["connections"]["per_ip_refused"].get<int>() >= 1);
}

TEST_CASE("a peer in TRUSTED_PROXIES is not held to MAX_CONNS_PER_IP",
          "[http][connection][limits]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_conns_per_ip = 1;
  cfg.trusted_proxies = "127.0.0.1";
  test_server srv{dir.file("events.db"), cfg};
  auto held = hold(srv.port(), 4);
  bool closed = false;
  auto got = exchange(srv.port(), closed);
  CHECK(status_of(got) == 200);
}

TEST_CASE("MAX_CONNS_PER_IP=0 sets no limit", "[http][connection][limits]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_conns_per_ip = 0;
  cfg.http_threads = 300; // every silent connection has its worker: none waits for one
  test_server srv{dir.file("events.db"), cfg};
  // More than the default cap of 256.
  auto held = hold(srv.port(), 260);
  bool closed = false;
  CHECK(status_of(exchange(srv.port(), closed)) == 200);
}
