// HTTP tests for GET /events/stream in SSE and NDJSON, finite and with follow=true.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

constexpr const char* sse = "text/event-stream";
constexpr const char* ndjson = "application/x-ndjson";

// A streaming GET on its own thread; the body so far is readable while it runs, and the
// test waits for what it expects with a deadline.
class follower {
public:
  follower(const test_server& srv, std::string path, httplib::Headers headers) {
    thread_ = std::thread{[this, &srv, path, headers] {
      auto cli = srv.client();
      auto r = cli->Get(path.c_str(), headers, [this](const char* data, size_t len) {
        std::lock_guard<std::mutex> lock{mtx_};
        body_.append(data, len);
        cv_.notify_all();
        return !stop_;
      });
      std::lock_guard<std::mutex> lock{mtx_};
      status_ = r ? r->status : -1;
      content_type_ = r ? r->get_header_value("Content-Type") : "";
      ended_ = true;
      cv_.notify_all();
    }};
  }
  ~follower() {
    {
      std::lock_guard<std::mutex> lock{mtx_};
      stop_ = true;
    }
    if (thread_.joinable())
      thread_.join();
  }

  /// Waits until the body holds `text` (or the response ended); answers whether it does.
  bool wait_for(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, limit, [&] {
      return body_.find(text) != std::string::npos || ended_;
    }) && body_.find(text) != std::string::npos;
  }

  /// Waits until the response ended.
  bool wait_end(std::chrono::seconds limit = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock{mtx_};
    return cv_.wait_for(lock, limit, [&] { return ended_; });
  }

  std::string body() {
    std::lock_guard<std::mutex> lock{mtx_};
    return body_;
  }
  int status() {
    std::lock_guard<std::mutex> lock{mtx_};
    return status_;
  }
  std::string content_type() {
    std::lock_guard<std::mutex> lock{mtx_};
    return content_type_;
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::string body_;
  int status_ = 0;
  std::string content_type_;
  bool ended_ = false;
  bool stop_ = false;
  std::thread thread_;
};

int64_t parked(const test_server& srv) {
  return srv.get_tenant()->stats().events_waiting.load();
}

} // namespace

TEST_CASE("without follow, SSE and NDJSON streams are finite", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 5);
  auto r = get(*cli, "/events/stream?from=2&batch_size=2", {{"Accept", sse}});
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == sse);
  CHECK(r.header("Ebuse-Head") == "5");
  CHECK(r.body == sse_events(2, 5));
  r = get(*cli, "/events/stream?from=0", {{"Accept", ndjson}});
  CHECK(r.header("Content-Type") == ndjson);
  CHECK(r.body == ndjson_events(1, 5));
  CHECK(get(*cli, "/events/stream?from=9", {{"Accept", ndjson}}).body.empty());
  CHECK(get(*cli, "/events/stream?from=0&follow=false&type=t3", {{"Accept", ndjson}}).body
        == ndjson_events(3, 3));
  // Last-Event-ID resumes after it, whatever `from` says.
  r = get(*cli, "/events/stream?from=1", {{"Accept", sse}, {"Last-Event-ID", "3"}});
  CHECK(r.body == sse_events(4, 5));
}

TEST_CASE("bad follow requests are refused with 400", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  check_error(get(*cli, "/events/stream?from=0&follow=true"), 400, "invalid_parameter");
  check_error(get(*cli, "/events/stream?from=0&follow=yes", {{"Accept", sse}}), 400,
              "invalid_parameter");
  for (const char* id : {"abc", "-1", "1.5", "9223372036854775807"}) {
    INFO(id);
    check_error(get(*cli, "/events/stream?from=0", {{"Accept", sse}, {"Last-Event-ID", id}}),
                400, "invalid_parameter");
  }
}

TEST_CASE("an SSE follower gets the backlog, then each commit, in order", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 3);
  follower f{srv, "/events/stream?from=2&follow=true&batch_size=1", {{"Accept", sse}}};
  REQUIRE(f.wait_for(sse_events(2, 3)));
  REQUIRE(eventually([&] { return parked(srv) == 1; }));
  REQUIRE(post(*cli, "/events/batch", make_batch(4, 3)).status == 200);
  REQUIRE(f.wait_for(sse_events(2, 6)));
  REQUIRE(eventually([&] { return parked(srv) == 1; }));
  REQUIRE(post(*cli, "/events/batch", make_batch(7, 1)).status == 200);
  REQUIRE(f.wait_for(sse_events(2, 7)));
  CHECK(f.body() == sse_events(2, 7)); // nothing repeated, no heartbeat within 15 s
}

TEST_CASE("a follower resumes with Last-Event-ID and filters by type", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 10);
  follower f{srv, "/events/stream?from=1&follow=true&type=t2,t3",
             {{"Accept", ndjson}, {"Last-Event-ID", "3"}}};
  REQUIRE(f.wait_for(ndjson_events(9, 10)));
  REQUIRE(eventually([&] { return parked(srv) == 1; }));
  REQUIRE(post(*cli, "/events/batch", make_batch(11, 7)).status == 200); // t2 at 16, t3 at 17
  REQUIRE(f.wait_for(ndjson_events(17, 17)));
  CHECK(f.body() == ndjson_events(9, 10) + ndjson_events(16, 17));
}

TEST_CASE("a silent follower gets heartbeats", "[http][live]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.heartbeat = std::chrono::milliseconds(100);
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  seed(*cli, 1);
  follower s{srv, "/events/stream?from=1&follow=true", {{"Accept", sse}}};
  REQUIRE(s.wait_for(sse_events(1, 1) + ": keep-alive\n\n: keep-alive\n\n"));
  follower n{srv, "/events/stream?from=1&follow=true", {{"Accept", ndjson}}};
  REQUIRE(n.wait_for(ndjson_events(1, 1) + "\n\n"));
  // An event after heartbeats arrives as usual.
  REQUIRE(post(*cli, "/events/batch", make_batch(2, 1)).status == 200);
  REQUIRE(s.wait_for(sse_events(2, 2)));
  REQUIRE(n.wait_for(ndjson_events(2, 2)));
}

TEST_CASE("shutdown ends followers cleanly", "[http][live]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 2);
  follower a{srv, "/events/stream?from=0&follow=true", {{"Accept", sse}}};
  follower b{srv, "/events/stream?from=0&follow=true", {{"Accept", ndjson}}};
  REQUIRE(a.wait_for(sse_events(1, 2)));
  REQUIRE(b.wait_for(ndjson_events(1, 2)));
  REQUIRE(eventually([&] { return parked(srv) == 2; }));
  srv.stop();
  REQUIRE(a.wait_end());
  REQUIRE(b.wait_end());
  CHECK(a.status() == 200);
  CHECK(b.status() == 200);
  CHECK(a.content_type() == sse);
  CHECK(b.content_type() == ndjson);
  CHECK(a.body() == sse_events(1, 2));
  CHECK(b.body() == ndjson_events(1, 2));
}

TEST_CASE("a follower that accepts no bytes is closed after WRITE_TIMEOUT", "[http][live]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.write_timeout = std::chrono::milliseconds(300);
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  // 20 MB of backlog: more than the socket buffers of both ends hold.
  std::string big = "\"" + std::string(2000, 'x') + "\"";
  std::string batch = "[";
  for (int i = 0; i < 1000; ++i)
    batch += (i ? "," : "") + event_body("big", big);
  batch += "]";
  for (int i = 0; i < 10; ++i)
    REQUIRE(post(*cli, "/events/batch", batch).status == 200);
  auto open_connections = [&] {
    auto m = json::parse(get(*cli, "/metrics").body);
    return m["http"]["connections"]["open"].get<int>();
  };
  raw_socket slow{srv.port()};
  REQUIRE(slow.send(std::string{"GET /events/stream?from=1&follow=true HTTP/1.1\r\n"}
                    + "Host: x\r\nX-API-Key: " + test_server::key
                    + "\r\nAccept: application/x-ndjson\r\n\r\n"));
  REQUIRE(eventually([&] { return open_connections() == 2; }));
  // Stalled: the server gives up on it and closes it (the metrics client stays).
  REQUIRE(eventually([&] { return open_connections() == 1; }, std::chrono::seconds(20)));
  std::string got;
  bool closed = false;
  got = slow.read_all(std::chrono::seconds(10), closed, std::size_t{64} << 20);
  CHECK(closed);
  CHECK(got.size() < 10000 * 2000);
}

TEST_CASE("a follower whose client leaves ends at once, not at the next heartbeat",
          "[http][live]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.heartbeat = std::chrono::seconds(60);
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  auto open_conns = [&] {
    auto m = json::parse(get(*cli, "/metrics").body);
    return m["http"]["connections"]["open"].get<int>();
  };
  for (bool reset : {false, true}) {
    raw_socket s{srv.port()};
    REQUIRE(s.send("GET /events/stream?from=1&follow=true HTTP/1.1\r\nHost: x\r\n"
                   "X-API-Key: test-key\r\nAccept: text/event-stream\r\n\r\n"));
    REQUIRE(eventually([&] { return parked(srv) == 1; }));
    if (reset)
      s.reset();
    else
      s.close();
    // Well before the heartbeat: its wait ended and its connection closed.
    CHECK(eventually([&] { return parked(srv) == 0 && open_conns() == 1; },
                     std::chrono::seconds(10)));
  }
}
