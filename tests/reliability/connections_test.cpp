// Connection floods, idle connections and clients that vanish mid-stream, against the
// real binary: the server keeps serving, recovers, and leaks no descriptor or reader.
#include <fcntl.h>
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "reliability/child_server.hpp"
#include "support/eventually.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

constexpr int flood_connections = 2000;

std::vector<std::string> env_for(const temp_dir& dir, const std::string& threads) {
  return {"PORT=0", "HOST=127.0.0.1", "API_KEY=conn-key", "DB_PATH=" + dir.file("c.db"),
          "LOG_LEVEL=info", "RATE_LIMIT=0", "READ_TIMEOUT=2s", "IDLE_TIMEOUT=1s",
          "HTTP_THREADS=" + threads, "MAX_CONNS_PER_IP=0"};
}

// Raises the soft descriptor limit (the child inherits it) to fit the flood.
void raise_fd_limit() {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

std::unique_ptr<httplib::Client> client(int port) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_default_headers({{"X-API-Key", "conn-key"}});
  cli->set_read_timeout(20);
  return cli;
}

} // namespace

TEST_CASE("thousands of simultaneous connections are all served", "[hostile][flood]") {
  raise_fd_limit();
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const int n = static_cast<int>(std::min<rlim_t>(flood_connections, lim.rlim_cur / 2 - 64));
  temp_dir dir;
  child_server srv{env_for(dir, "32")};
  REQUIRE(srv.port() > 0);
  const int base_fds = open_fds(srv.pid());
  // Every connection is opened before any is read, so all are in flight at once.
  std::vector<std::unique_ptr<raw_socket>> conns;
  const std::string req = "GET /position HTTP/1.1\r\nX-API-Key: conn-key\r\n"
                          "Connection: close\r\n\r\n";
  for (int i = 0; i < n; ++i) {
    conns.push_back(std::make_unique<raw_socket>(srv.port()));
    if (conns.back()->ok())
      conns.back()->send(req);
  }
  // Meanwhile a normal client is served.
  auto r = client(srv.port())->Get("/position");
  REQUIRE(r);
  CHECK(r->status == 200);
  int ok = 0;
  for (auto& c : conns)
    ok += status_of(c->read_all(20000ms)) == 200;
  conns.clear();
  WARN("simultaneous connections answered 200: " << ok << " of " << n);
  CHECK(ok == n);
  CHECK(n >= 1000);
  CHECK(eventually([&] { return open_fds(srv.pid()) <= base_fds + 2; }, 5000ms));
}

TEST_CASE("silent connections hold no worker and are closed after READ_TIMEOUT",
          "[hostile][flood]") {
  temp_dir dir;
  child_server srv{env_for(dir, "4")};
  REQUIRE(srv.port() > 0);
  // Four times as many silent connections as workers: the event loop holds them while
  // they send nothing, so a new client is served at once, and each is closed when its
  // first request has not arrived within READ_TIMEOUT (2s).
  std::vector<std::unique_ptr<raw_socket>> idle;
  for (int i = 0; i < 16; ++i)
    idle.push_back(std::make_unique<raw_socket>(srv.port()));
  auto cli = client(srv.port());
  // All sixteen are accepted (the /metrics request's own connection makes 17).
  REQUIRE(eventually([&] {
    auto m = cli->Get("/metrics");
    return m && m->status == 200 &&
           nlohmann::json::parse(m->body)["http"]["connections"]["open"] == 17;
  }, 5000ms));
  auto r = cli->Get("/position");
  REQUIRE(r);
  CHECK(r->status == 200);
  for (auto& s : idle) {
    bool closed = false;
    s->read_all(3000ms, closed);
    CHECK(closed);
  }
}

TEST_CASE("clients vanishing mid-stream release their reader and connection",
          "[hostile][stream]") {
  temp_dir dir;
  child_server srv{env_for(dir, "8")};
  REQUIRE(srv.port() > 0);
  auto cli = client(srv.port());
  std::string batch = "[";
  for (int i = 0; i < 1000; ++i)
    batch += std::string(i ? "," : "") + R"({"type":"t","data":{"pad":")"
             + std::string(200, 'p') + "\"}}";
  batch += "]";
  for (int i = 0; i < 20; ++i)
    REQUIRE(cli->Post("/events/batch", batch, "application/json")->status == 200);
  // Reads take pooled connections opened on first use and kept while idle: warm them
  // with a stream (it reads ahead) before the baseline.
  REQUIRE(cli->Get("/events/stream?from=1&batch_size=100")->status == 200);
  const int base_fds = open_fds(srv.pid());
  // The pool may still open more, up to READERS (3) in use at once, each with its file
  // and its WAL descriptor.
  constexpr int pooled_fds = 2 * 3;
  const std::string req = "GET /events/stream?from=1&batch_size=100 HTTP/1.1\r\n"
                          "X-API-Key: conn-key\r\n\r\n";
  for (int i = 0; i < 30; ++i) {
    raw_socket s{srv.port()};
    s.send(req);
    bool closed;
    auto got = s.read_all(2000ms, closed, 16384);
    CHECK(status_of(got) == 200);
    if (i % 2)
      s.reset();
    else
      s.close();
  }
  // Every stream stops at its next write, so descriptors return to the baseline and a
  // full stream still works: no reader is left busy.
  CHECK(eventually([&] { return open_fds(srv.pid()) <= base_fds + pooled_fds + 1; }, 10000ms));
  auto full = cli->Get("/events/stream?from=1");
  REQUIRE(full);
  CHECK(full->status == 200);
  CHECK(full->body.size() > 20000 * 200);
  CHECK(full->body.back() == ']');
}
