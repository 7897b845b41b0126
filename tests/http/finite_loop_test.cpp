// HTTP tests of finite streamed responses that go on in the event loop: slow readers hold
// no worker and get the same bytes the library would write; the connection then serves
// its next request (pipelined or not) unless it was asked to close.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "support/chunked_followers.hpp"
#include "support/eventually.hpp"
#include "support/park_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Events in the tenant and per page: each stream is megabytes, beyond what the socket
// buffers of both sides hold.
constexpr int64_t total = 2000;
constexpr int64_t page = 100;
const std::string filler(4000, 'x');

// A batch of events first..last with large data.
std::string big_batch(int64_t first, int64_t last) {
  std::string out = "[";
  for (int64_t i = first; i <= last; ++i)
    out += std::string{i == first ? "" : ","} + "{\"type\":\"t\",\"data\":{\"i\":"
           + std::to_string(i) + ",\"s\":\"" + filler
           + "\"},\"timestamp\":\"2024-01-01T00:00:00Z\"}";
  return out + "]";
}

// The wire object of event i of big_batch (at position i).
std::string big_event(int64_t i) {
  return "{\"position\":" + std::to_string(i) + ",\"type\":\"t\",\"data\":{\"i\":"
         + std::to_string(i) + ",\"s\":\"" + filler
         + "\"},\"timestamp\":\"2024-01-01T00:00:00Z\"}";
}

std::string chunk(const std::string& data) {
  char hex[32];
  std::snprintf(hex, sizeof hex, "%zx", data.size());
  return std::string{hex} + "\r\n" + data + "\r\n";
}

std::string joined(int64_t first, int64_t last) {
  std::string out;
  for (int64_t i = first; i <= last; ++i)
    out += (i == first ? "" : ",") + big_event(i);
  return out;
}

std::string lines(int64_t first, int64_t last, bool sse) {
  std::string out;
  for (int64_t i = first; i <= last; ++i)
    out += sse ? "id: " + std::to_string(i) + "\ndata: " + big_event(i) + "\n\n"
               : big_event(i) + "\n";
  return out;
}

// The chunked body of the finite JSON stream of events 1..n, `size` per page, exactly as
// the library frames its provider's writes: "[", each page, "," between pages, "]".
std::string json_wire(int64_t n, int64_t size) {
  std::string out = chunk("[");
  for (int64_t first = 1; first <= n; first += size) {
    if (first > 1)
      out += chunk(",");
    out += chunk(joined(first, std::min(n, first + size - 1)));
  }
  return out + chunk("]") + "0\r\n\r\n";
}

// The same for NDJSON or SSE: one chunk per page.
std::string lines_wire(int64_t n, int64_t size, bool sse) {
  std::string out;
  for (int64_t first = 1; first <= n; first += size) {
    auto last = std::min(n, first + size - 1);
    out += chunk(lines(first, last, sse));
  }
  return out + "0\r\n\r\n";
}

std::string stream_request(const std::string& accept = "", const std::string& extra = "") {
  return raw_get("/events/stream?from=1&batch_size=" + std::to_string(page),
                 (accept.empty() ? "" : "Accept: " + accept + "\r\n") + extra);
}

// The chunks decoded so far (the whole body's wire once it ended), after the head.
std::string wire_of(const chunked_response& r) {
  if (r.at == 0)
    return {};
  auto body = r.raw.find("\r\n\r\n") + 4;
  return r.raw.substr(body, r.at - body);
}

auto ended_or_failed = [](const chunked_response& r) { return r.bad || r.closed || r.ended; };

struct finite_server {
  temp_dir dir;
  test_server srv;
  std::unique_ptr<httplib::Client> cli;

  explicit finite_server(std::chrono::nanoseconds write_timeout = 60s, int threads = 4)
    : srv{dir.file("events.db"), config(write_timeout, threads)}, cli{srv.client()} {
    for (int64_t first = 1; first <= total; first += 200)
      REQUIRE(post(*cli, "/events/batch", big_batch(first, first + 199)).status == 200);
  }

  static ebuse::server_config config(std::chrono::nanoseconds write_timeout, int threads) {
    auto cfg = loop_config(threads);
    cfg.write_timeout = write_timeout;
    return cfg;
  }

  int64_t figure(const char* name) {
    return connection_figure(*cli, name);
  }
};

// Reads `raw` further until it holds a whole chunked response and `rest` whole
// Content-Length responses after it.
bool read_chunked_then(raw_socket& s, std::string& raw, int rest, chunked_response& first) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    first = chunked_response{};
    first.raw = raw;
    first.decode();
    if (first.ended && raw_socket::whole_responses(raw.substr(first.at)) >= rest)
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    if (!s.read_for(1s, raw) && raw.size() == first.raw.size())
      return false;
  }
}

} // namespace

TEST_CASE("8 slow readers of finite streams hold none of 4 workers and get every byte",
          "[http][follow_loop][finite_loop]") {
  finite_server s;
  // JSON, NDJSON and SSE, reading nothing at first through small receive buffers.
  const char* accepts[] = {"", "application/x-ndjson", "text/event-stream"};
  std::vector<std::unique_ptr<chunked_followers>> readers;
  for (int i = 0; i < 8; ++i)
    readers.push_back(
      std::make_unique<chunked_followers>(s.srv.port(), 1, stream_request(accepts[i % 3]), 4096));
  REQUIRE(eventually([&] { return s.figure("following") == 8; }, 30s));
  auto quick = s.srv.client();
  quick->set_read_timeout(5);
  auto start = std::chrono::steady_clock::now();
  CHECK(get(*quick, "/position").status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(eventually([&] { return s.figure("in_worker") <= 1; })); // the /metrics request itself
  for (int i = 0; i < 8; ++i) {
    INFO("reader " << i);
    auto& r = *readers[static_cast<std::size_t>(i)];
    REQUIRE(r.read_until(ended_or_failed, 60s));
    CHECK_FALSE(r[0].bad);
    CHECK(r[0].ended);
    auto want = i % 3 == 0 ? json_wire(total, page) : lines_wire(total, page, i % 3 == 2);
    CHECK(wire_of(r[0]) == want);
  }
  // Counted once each when its last part was made: with the body's bytes.
  auto m = nlohmann::json::parse(get(*s.cli, "/metrics").body);
  CHECK(m["http"]["routes"]["events_stream"]["2xx"] == 8);
}

TEST_CASE("a finite stream and a request pipelined behind it are answered in order",
          "[http][follow_loop][finite_loop]") {
  finite_server s;
  raw_socket c{s.srv.port(), 4096};
  REQUIRE(c.send(raw_get("/events/stream?from=1&batch_size=50") + raw_get("/position")));
  std::string raw;
  chunked_response first;
  REQUIRE(read_chunked_then(c, raw, 1, first));
  CHECK(wire_of(first) == json_wire(total, 50));
  auto second = raw.substr(first.at);
  CHECK(status_of(second) == 200);
  CHECK(body_of(second).find("\"position\":" + std::to_string(total)) != std::string::npos);
  // Kept alive: the next request on the same connection is answered too.
  REQUIRE(c.send(raw_get("/position")));
  std::string third;
  REQUIRE(c.read_responses(10s, third));
  CHECK(status_of(third) == 200);
  CHECK(eventually([&] { return s.figure("idle") == 1; }));
}

TEST_CASE("a finite stream asked with Connection: close closes after its last chunk",
          "[http][follow_loop][finite_loop]") {
  finite_server s;
  chunked_followers f{s.srv.port(), 1,
                      stream_request("application/x-ndjson", "Connection: close\r\n"), 4096};
  REQUIRE(f.read_until([](const chunked_response& r) { return r.bad || r.closed; }, 60s));
  CHECK_FALSE(f[0].bad);
  CHECK(f[0].ended);
  CHECK(wire_of(f[0]) == lines_wire(total, page, false));
  CHECK(f[0].raw.find("Connection: close\r\n") < f[0].raw.find("\r\n\r\n"));
}

TEST_CASE("a client that half-closes after its request still receives the whole stream",
          "[http][follow_loop][finite_loop]") {
  finite_server s;
  chunked_followers f{s.srv.port(), 1, stream_request("text/event-stream"), 4096};
  ::shutdown(f.socket(0).fd(), SHUT_WR);
  REQUIRE(eventually([&] { return s.figure("following") == 1; }, 30s));
  REQUIRE(f.read_until([](const chunked_response& r) { return r.bad || r.closed; }, 60s));
  CHECK_FALSE(f[0].bad);
  CHECK(f[0].ended);
  CHECK(wire_of(f[0]) == lines_wire(total, page, true));
  CHECK(f[0].closed); // it can send no more: closed once the response is sent
}

TEST_CASE("a finite stream whose client reads nothing is closed after WRITE_TIMEOUT",
          "[http][follow_loop][finite_loop]") {
  finite_server s{500ms};
  chunked_followers slow{s.srv.port(), 1, stream_request(), 4096};
  chunked_followers fast{s.srv.port(), 3, stream_request("application/x-ndjson")};
  REQUIRE(fast.read_until(ended_or_failed, 60s));
  for (std::size_t i = 0; i < fast.size(); ++i) {
    INFO("fast reader " << i);
    CHECK_FALSE(fast[i].bad);
    CHECK(wire_of(fast[i]) == lines_wire(total, page, false));
  }
  CHECK(eventually([&] { return s.figure("write_timeouts") == 1; }, 30s));
  CHECK(slow.read_until([](const chunked_response& r) { return r.closed || r.bad; }, 30s));
  CHECK_FALSE(slow[0].ended);
}

TEST_CASE("shutdown with slow finite readers ends once they have read or timed out",
          "[http][follow_loop][finite_loop]") {
  finite_server s{3s};
  chunked_followers readers{s.srv.port(), 2, stream_request(), 4096};
  chunked_followers idle{s.srv.port(), 1, stream_request(), 4096};
  REQUIRE(eventually([&] { return s.figure("following") == 3; }, 30s));
  auto start = std::chrono::steady_clock::now();
  std::thread stopper{[&] { s.srv.stop_http(); }};
  bool all = readers.read_until([](const chunked_response& r) { return r.bad || r.closed; },
                                60s);
  stopper.join();
  CHECK(all);
  // The one that reads nothing holds the stop for WRITE_TIMEOUT, not for its whole body.
  CHECK(std::chrono::steady_clock::now() - start < 40s);
  for (std::size_t i = 0; i < readers.size(); ++i) {
    INFO("reader " << i);
    CHECK_FALSE(readers[i].bad);
    CHECK(readers[i].ended);
    CHECK(wire_of(readers[i]) == json_wire(total, page));
  }
  CHECK(idle.read_until([](const chunked_response& r) { return r.closed || r.bad; }, 30s));
  CHECK_FALSE(idle[0].ended);
}

TEST_CASE("a slow backup download holds no worker and its copy is removed after it",
          "[http][finite_loop][sqlite]") {
  temp_dir dir;
  test_server srv{tenants_in(dir, {"shop"}, {"admin-key"}), loop_config(2)};
  auto shop = client_for(srv, "key-shop");
  for (int64_t first = 1; first <= total; first += 200)
    REQUIRE(post(*shop, "/events/batch", big_batch(first, first + 199)).status == 200);
  auto admin = client_for(srv, "admin-key");
  auto figure = [&](const char* name) { return connection_figure(*admin, name); };
  // The copy is an unlinked file held open until its download is over.
  auto copies = [&] {
    int n = 0;
    for (auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(e.path(), ec).string();
      n += target.rfind(dir.path(), 0) == 0 && target.find(".backup-") != std::string::npos;
    }
    return n;
  };
  raw_socket slow{srv.port(), 4096};
  REQUIRE(slow.send("GET /admin/tenants/shop/backup HTTP/1.1\r\nHost: x\r\n"
                    "X-API-Key: admin-key\r\n\r\n"));
  // Waiting in the loop for its client to read: no worker, the copy still there.
  REQUIRE(eventually([&] { return figure("following") == 1; }, 30s));
  CHECK(get(*shop, "/position").status == 200);
  CHECK(eventually([&] { return figure("in_worker") <= 1; }));
  CHECK(copies() == 1);
  std::string raw;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::size_t want = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto head_end = raw.find("\r\n\r\n");
    if (head_end != std::string::npos && want == 0) {
      auto at = raw.find("Content-Length: ");
      REQUIRE(at < head_end);
      want = head_end + 4 + std::stoull(raw.substr(at + 16));
    }
    if (want > 0 && raw.size() >= want)
      break;
    REQUIRE(slow.read_for(1s, raw));
  }
  REQUIRE(want > 0);
  REQUIRE(raw.size() == want); // nothing more: the connection waits for its next request
  {
    std::ofstream out{dir.file("copy.db"), std::ios::binary};
    out << raw.substr(raw.find("\r\n\r\n") + 4);
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(dir.file("copy.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr)
          == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int64(st, 0) == total);
  sqlite3_finalize(st);
  sqlite3_close(db);
  CHECK(eventually([&] { return copies() == 0; }));
  // Kept alive: the connection answers its next request.
  REQUIRE(slow.send("GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: key-shop\r\n\r\n"));
  std::string next;
  CHECK(slow.read_responses(10s, next));
  CHECK(status_of(next) == 200);
}
