// HTTP tests for the connection event loop: waiting connections (slow heads, slow bodies,
// bodies awaited after 100 Continue, idle keep-alive) hold no worker, pipelining, shutdown with idle and busy connections.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

const std::string position_req =
  "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n\r\n";

ebuse::server_config few_workers() {
  auto cfg = quiet_config();
  cfg.http_threads = 4;
  cfg.max_conns_per_ip = 0;
  cfg.read_timeout = 20s;
  cfg.idle_timeout = 60s;
  return cfg;
}

// A new client's request on its own connection is answered at once (workers are free).
void check_new_client_served(int port) {
  raw_socket fresh{port};
  auto start = std::chrono::steady_clock::now();
  REQUIRE(fresh.send(position_req));
  std::string got;
  CHECK(fresh.read_responses(2s, got));
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
}

std::vector<std::unique_ptr<raw_socket>> open_sockets(int port, int n) {
  std::vector<std::unique_ptr<raw_socket>> out;
  for (int i = 0; i < n; ++i)
    out.push_back(std::make_unique<raw_socket>(port));
  return out;
}

} // namespace

TEST_CASE("connections holding half a head do not delay a new client", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  auto slow = open_sockets(srv.port(), 500);
  int sent = 0;
  for (auto& s : slow)
    sent += s->send("GET /position HTTP/1.1\r\nHost: x\r\n") ? 1 : 0;
  REQUIRE(sent == 500);
  // Four workers, 500 unfinished heads: a new client is answered at once.
  check_new_client_served(srv.port());
  // The slow heads were kept: once finished, each is answered.
  for (auto& s : slow)
    REQUIRE(s->send("X-API-Key: test-key\r\n\r\n"));
  int answered = 0;
  for (auto& s : slow) {
    std::string r;
    if (s->read_responses(10s, r) && r.rfind("HTTP/1.1 200", 0) == 0)
      ++answered;
  }
  CHECK(answered == 500);
}

TEST_CASE("idle keep-alive connections hold no worker and stay usable", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  auto idle = open_sockets(srv.port(), 1000);
  int ok = 0;
  for (auto& s : idle) {
    std::string r;
    if (s->send(position_req) && s->read_responses(5s, r) && r.rfind("HTTP/1.1 200", 0) == 0)
      ++ok;
  }
  REQUIRE(ok == 1000);
  // All 1,000 are idle on four workers; a new client is served at once.
  auto start = std::chrono::steady_clock::now();
  auto cli = srv.client();
  CHECK(get(*cli, "/position").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  // And every idle connection still serves its next request.
  for (auto& s : idle)
    REQUIRE(s->send(position_req));
  ok = 0;
  for (auto& s : idle) {
    std::string r;
    if (s->read_responses(10s, r) && r.rfind("HTTP/1.1 200", 0) == 0)
      ++ok;
  }
  CHECK(ok == 1000);
}

TEST_CASE("a slow body is served within READ_TIMEOUT and cut after it", "[http][loop]") {
  temp_dir dir;
  auto cfg = few_workers();
  cfg.read_timeout = 1500ms;
  test_server srv{dir.file("events.db"), cfg};
  const std::string body = R"({"type":"slow","data":{"x":1}})";
  const std::string head = "POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                           "Content-Type: application/json\r\nContent-Length: "
                           + std::to_string(body.size()) + "\r\n\r\n";
  SECTION("in pieces, whole within the deadline") {
    raw_socket s{srv.port()};
    REQUIRE(s.send(head));
    std::string got;
    for (char ch : body) {
      REQUIRE(s.send(std::string(1, ch)));
      // Nothing is answered before the body is whole.
      if (got.empty())
        s.read_for(10ms, got);
    }
    CHECK(s.read_responses(2s, got));
    CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(got.find("\"position\":1") != std::string::npos);
  }
  SECTION("never whole: 400 and closed at the deadline") {
    raw_socket s{srv.port()};
    auto start = std::chrono::steady_clock::now();
    REQUIRE(s.send(head + body.substr(0, 5)));
    std::string got;
    CHECK_FALSE(s.read_for(5000ms, got)); // closed well before 5 s
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 1400ms);
    CHECK(took < 4s);
    // A body cut short is answered as unreadable (400), as on a blocking read.
    CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
  }
}

TEST_CASE("chunked bodies arriving slowly hold no worker", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  const std::string event = R"({"type":"chunked","data":{"x":1}})";
  const std::string head = "POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  // Twenty uploads on four workers, each stopped after its first chunk.
  auto slow = open_sockets(srv.port(), 20);
  for (auto& s : slow)
    REQUIRE(s->send(head + "5\r\n" + event.substr(0, 5) + "\r\n"));
  check_new_client_served(srv.port());
  // Each upload, finished in two more chunks, is appended once.
  std::ostringstream rest;
  rest << std::hex << event.size() - 5 << "\r\n" << event.substr(5) << "\r\n0\r\n\r\n";
  for (auto& s : slow)
    REQUIRE(s->send(rest.str()));
  int appended = 0;
  for (auto& s : slow) {
    std::string r;
    if (s->read_responses(10s, r) && r.rfind("HTTP/1.1 200", 0) == 0)
      ++appended;
  }
  CHECK(appended == 20);
  auto cli = srv.client();
  CHECK(get(*cli, "/position").body.find("\"position\":20") != std::string::npos);
}

TEST_CASE("100-continue clients yet to send their bodies hold no worker", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  const std::string event = R"({"type":"continued","data":{"x":1}})";
  const std::string head = "POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                           "Expect: 100-continue\r\nContent-Type: application/json\r\n"
                           "Content-Length: "
                           + std::to_string(event.size()) + "\r\n\r\n";
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  // Twenty admitted heads on four workers, each told to send its body and not sending it.
  auto waiting = open_sockets(srv.port(), 20);
  std::vector<std::string> got(waiting.size());
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    REQUIRE(waiting[i]->send(head));
    REQUIRE(waiting[i]->read_responses(5s, got[i]));
    REQUIRE(got[i] == interim);
  }
  check_new_client_served(srv.port());
  // Each body, sent now, is appended once and answered once: no second 100.
  for (auto& s : waiting)
    REQUIRE(s->send(event));
  int appended = 0;
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    REQUIRE(waiting[i]->read_responses(10s, got[i], 2));
    auto answer = got[i].substr(interim.size());
    if (answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0 && raw_socket::whole_responses(answer) == 1)
      ++appended;
    // The connection stays usable.
    REQUIRE(waiting[i]->send(position_req));
    REQUIRE(waiting[i]->read_responses(5s, got[i], 3));
  }
  CHECK(appended == 20);
  auto cli = srv.client();
  CHECK(get(*cli, "/position").body.find("\"position\":20") != std::string::npos);
}

TEST_CASE("pipelined requests in one write are all answered in order", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  raw_socket s{srv.port()};
  const std::string body = R"({"type":"p","data":{}})";
  const std::string append = "POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                             "Content-Type: application/json\r\nContent-Length: "
                             + std::to_string(body.size()) + "\r\n\r\n" + body;
  REQUIRE(s.send(append + append + position_req + append + position_req));
  std::string got;
  REQUIRE(s.read_responses(5s, got, 5));
  auto p1 = got.find("\"position\":1");
  auto p2 = got.find("\"position\":2");
  auto h2 = got.find("{\"position\":2}");
  auto p3 = got.find("\"position\":3");
  auto h3 = got.find("{\"position\":3}");
  CHECK(p1 < p2);
  CHECK(p2 <= h2);
  CHECK(h2 < p3);
  CHECK(p3 <= h3);
  CHECK(h3 != std::string::npos);
  CHECK(raw_socket::whole_responses(got) == 5);
}

TEST_CASE("stopping closes idle connections and finishes busy ones", "[http][loop]") {
  temp_dir dir;
  auto cfg = few_workers();
  test_server srv{dir.file("events.db"), cfg};
  auto idle = open_sockets(srv.port(), 50);
  for (auto& s : idle) {
    std::string r;
    REQUIRE(s->send(position_req));
    REQUIRE(s->read_responses(5s, r));
  }
  // A request whose head is whole but whose body is still arriving: it is finished
  // (answered) after stop, within READ_TIMEOUT.
  raw_socket busy{srv.port()};
  const std::string body = R"({"type":"late","data":{}})";
  REQUIRE(busy.send("POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                    "Content-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 3)));
  std::string got;
  busy.read_for(50ms, got); // the loop holds the part it read
  std::thread stopper{[&] { srv.stop_http(); }};
  // Idle connections close at once.
  int closed = 0;
  for (auto& s : idle) {
    std::string r;
    if (!s->read_for(2000ms, r))
      ++closed;
  }
  CHECK(closed == 50);
  REQUIRE(busy.send(body.substr(3)));
  CHECK(busy.read_responses(5s, got));
  stopper.join();
  // Arriving during shutdown, it is refused (503), not cut.
  CHECK(got.rfind("HTTP/1.1 503", 0) == 0);
  got.clear();
  CHECK_FALSE(busy.read_for(1000ms, got));
}

TEST_CASE("stopping answers a body sent after 100 Continue", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  raw_socket idle{srv.port()};
  std::string r;
  REQUIRE(idle.send(position_req));
  REQUIRE(idle.read_responses(5s, r));
  const std::string body = R"({"type":"late","data":{}})";
  raw_socket told{srv.port()};
  REQUIRE(told.send("POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\n"
                    "Expect: 100-continue\r\nContent-Type: application/json\r\n"
                    "Content-Length: "
                    + std::to_string(body.size()) + "\r\n\r\n"));
  std::string got;
  REQUIRE(told.read_responses(5s, got));
  REQUIRE(got == "HTTP/1.1 100 Continue\r\n\r\n");
  got.clear();
  std::thread stopper{[&] { srv.stop_http(); }};
  // The idle connection closing says the server is stopping.
  CHECK_FALSE(idle.read_for(5000ms, r));
  // Admitted before the stop, the request is answered (not refused) once its body is in.
  REQUIRE(told.send(body));
  CHECK(told.read_responses(5s, got));
  stopper.join();
  CHECK(got.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(got.find("\"position\":1") != std::string::npos);
}

TEST_CASE("/metrics counts connections by state and busy workers", "[http][loop]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), few_workers()};
  auto idle = open_sockets(srv.port(), 20);
  for (auto& s : idle) {
    std::string r;
    REQUIRE(s->send(position_req));
    REQUIRE(s->read_responses(5s, r));
  }
  auto reading = open_sockets(srv.port(), 10);
  for (auto& s : reading)
    REQUIRE(s->send("GET /position HTTP/1.1\r\n"));
  // The loop sees the partial heads and the idle connections (after their workers'
  // short wait for a next request) within a deadline.
  auto cli = srv.client();
  nlohmann::json c;
  auto until = std::chrono::steady_clock::now() + 5s;
  do {
    c = nlohmann::json::parse(get(*cli, "/metrics").body)["http"]["connections"];
  } while ((c["idle"].get<int>() < 20 || c["reading"].get<int>() < 10)
           && std::chrono::steady_clock::now() < until);
  CHECK(c["idle"].get<int>() >= 20);
  CHECK(c["reading"].get<int>() >= 10);
  // The /metrics request itself runs on a worker.
  CHECK(c["in_worker"].get<int>() >= 1);
  CHECK(c["workers_busy"].get<int>() >= 1);
  CHECK(c["open"].get<int>()
        == c["idle"].get<int>() + c["reading"].get<int>() + c["in_worker"].get<int>()
             + c["parked"].get<int>());
}
