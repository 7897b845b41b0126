// HTTP tests for Durable Streams long-polls parked in the event loop: no worker while they
// wait, woken by an append to their stream, their deadline, their client leaving or
// shutdown, each answered once and as a waiting worker would have answered.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/chunked_followers.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/park_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

ebuse::server_config four_workers(std::chrono::nanoseconds timeout = 60s) {
  auto cfg = loop_config();
  cfg.ds_longpoll_timeout = timeout;
  return cfg;
}

// The same request with an empty chunked body whose size line ends in a bare LF: the
// library reads it, the loop does not frame it (only chunks in their exact CRLF form), so
// a worker reads it and waits with it.
std::string unframed_raw_get(const std::string& path) {
  return "GET " + path
         + " HTTP/1.1\r\nHost: x\r\nX-API-Key: test-key\r\nTransfer-Encoding: chunked\r\n\r\n"
           "0\n\r\n";
}

int64_t stream_waiting(const test_server& srv) {
  return srv.get_tenant()->stats().stream_waiting.load();
}

// Creates text stream `name` holding "old" and answers its tail offset.
std::string create_stream(httplib::Client& cli, const std::string& name) {
  auto r = to_reply(cli.Put(("/v1/stream/" + name).c_str(), "old", "text/plain"));
  REQUIRE(r.status == 201);
  return r.header("Stream-Next-Offset");
}

int append(httplib::Client& cli, const std::string& name, const std::string& body) {
  return to_reply(cli.Post(("/v1/stream/" + name).c_str(), body, "text/plain")).status;
}

std::vector<std::unique_ptr<raw_socket>> park_polls(int port, int n, const std::string& path) {
  return send_on_many(port, n, raw_get(path));
}

// A response with its cursor (a clock reading and a random part) and its rate limit's
// figures (which of two connections was admitted first is not fixed) blanked, and without
// the connection's fate (a request whose body the handler never read closes its
// connection; the others stay open).
std::string comparable(const std::string& raw) {
  auto out = std::regex_replace(raw, std::regex{"Stream-Cursor: [^\r]*\r\n"},
                                "Stream-Cursor: *\r\n");
  out = std::regex_replace(out, std::regex{"(RateLimit-[A-Za-z]+): [^\r]*\r\n"},
                           "$1: *\r\n");
  return std::regex_replace(out, std::regex{"(Connection|Keep-Alive): [^\r]*\r\n"}, "");
}

} // namespace

TEST_CASE("100 parked stream long-polls hold no worker and are all answered once by one append",
          "[sqlite][http][streams][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("ds.db"), four_workers()};
  auto cli = srv.client();
  auto tail = create_stream(*cli, "s");
  auto polls = park_polls(srv.port(), 100, "/v1/stream/s?offset=" + tail + "&live=long-poll");
  REQUIRE(eventually([&] { return parked_conns(*cli) == 100; }));
  CHECK(stream_waiting(srv) == 100);
  // Four workers, a hundred waiting clients: other requests are still served.
  CHECK(get(*cli, "/position").status == 200);
  CHECK(to_reply(cli->Get("/v1/stream/s")).body == "old");
  REQUIRE(append(*cli, "s", "new") == 204);
  int answered = 0, exactly_once = 0;
  for (auto& s : polls) {
    std::string raw;
    if (!s->read_responses(20s, raw))
      continue;
    ++answered;
    if (status_of(raw) == 200 && body_of(raw) == "new"
        && raw.find("Stream-Up-To-Date: true\r\n") != std::string::npos) {
      // The next response on the connection is the next request's: nothing came twice.
      std::string next;
      if (s->send(raw_get("/v1/stream/s")) && s->read_responses(5s, next)
          && count_responses(next) == 1 && body_of(next) == "oldnew")
        ++exactly_once;
    }
  }
  CHECK(answered == 100);
  CHECK(exactly_once == 100);
  CHECK(eventually([&] { return parked_conns(*cli) == 0 && stream_waiting(srv) == 0; }));
}

TEST_CASE("a parked stream long-poll at offset=now gets the append that woke it",
          "[sqlite][http][streams][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("ds.db"), four_workers()};
  auto cli = srv.client();
  create_stream(*cli, "n");
  create_stream(*cli, "other");
  raw_socket s{srv.port()};
  REQUIRE(s.send(raw_get("/v1/stream/n?offset=now&live=long-poll")));
  REQUIRE(eventually([&] { return parked_conns(*cli) == 1; }));
  // An append to another stream does not wake it.
  REQUIRE(append(*cli, "other", "x") == 204);
  REQUIRE(append(*cli, "n", "fresh") == 204);
  std::string raw;
  REQUIRE(s.read_responses(10s, raw));
  CHECK(count_responses(raw) == 1);
  CHECK(status_of(raw) == 200);
  CHECK(body_of(raw) == "fresh");
}

TEST_CASE("a parked stream long-poll whose client leaves is dropped",
          "[sqlite][http][streams][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("ds.db"), four_workers()};
  auto cli = srv.client();
  auto tail = create_stream(*cli, "c");
  auto polls = park_polls(srv.port(), 6, "/v1/stream/c?offset=" + tail + "&live=long-poll");
  REQUIRE(eventually([&] { return parked_conns(*cli) == 6 && stream_waiting(srv) == 6; }));
  polls[0]->close();
  polls[1]->reset();
  polls[2]->close();
  CHECK(eventually([&] { return parked_conns(*cli) == 3 && stream_waiting(srv) == 3; }));
  polls.clear();
  CHECK(eventually([&] { return parked_conns(*cli) == 0 && stream_waiting(srv) == 0; }));
  CHECK(append(*cli, "c", "after") == 204);
  CHECK(to_reply(cli->Get("/v1/stream/c")).body == "oldafter");
}

TEST_CASE("a parked stream long-poll times out with the answer of a waiting worker",
          "[sqlite][http][streams][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("ds.db"), four_workers(1s)};
  auto cli = srv.client();
  auto tail = create_stream(*cli, "t");
  auto path = std::string{"/v1/stream/t?offset=now&live=long-poll&cursor=7"};
  raw_socket parked{srv.port()};
  raw_socket blocked{srv.port()};
  auto start = std::chrono::steady_clock::now();
  REQUIRE(parked.send(raw_get(path)));
  REQUIRE(blocked.send(unframed_raw_get(path)));
  // One parked in the loop, one waiting on a worker; both counted as waiting.
  bool seen = eventually([&] { return parked_conns(*cli) == 1 && stream_waiting(srv) == 2; },
                         900ms);
  std::string a, b;
  REQUIRE(parked.read_responses(10s, a));
  REQUIRE(blocked.read_responses(10s, b));
  CHECK(std::chrono::steady_clock::now() - start >= 1s);
  CHECK(seen);
  CHECK(status_of(a) == 204);
  CHECK(a.find("Stream-Next-Offset: " + tail + "\r\n") != std::string::npos);
  CHECK(a.find("Stream-Cursor: ") != std::string::npos);
  CHECK(a.find("RateLimit-Remaining: ") != std::string::npos);
  CHECK(comparable(a) == comparable(b));
  CHECK(stream_waiting(srv) == 0);
}

TEST_CASE("shutdown answers parked stream long-polls at once",
          "[sqlite][http][streams][live][park]") {
  temp_dir dir;
  test_server srv{dir.file("ds.db"), four_workers()};
  auto cli = srv.client();
  auto tail = create_stream(*cli, "w");
  auto polls = park_polls(srv.port(), 30, "/v1/stream/w?offset=" + tail + "&live=long-poll");
  REQUIRE(eventually([&] { return parked_conns(*cli) == 30; }));
  std::chrono::steady_clock::duration took{};
  int timed_out = answered_at_stop(srv, polls, [&tail](const std::string& raw) {
    return status_of(raw) == 204
           && raw.find("Stream-Next-Offset: " + tail + "\r\n") != std::string::npos;
  }, took);
  CHECK(timed_out == 30);
  CHECK(took < 20s);
  CHECK(stream_waiting(srv) == 0);
}

TEST_CASE("SSE responses wait in the loop without a worker and get each append",
          "[sqlite][http][streams][live]") {
  temp_dir dir;
  test_server srv{dir.file("sse.db"), four_workers()};
  auto cli = srv.client();
  create_stream(*cli, "s");
  chunked_followers sse{srv.port(), 8, raw_get("/v1/stream/s?offset=-1&live=sse")};
  REQUIRE(eventually([&] { return stream_waiting(srv) == 8; }));
  CHECK(eventually([&] { return connection_figure(*cli, "following") == 8; }));
  CHECK(eventually([&] { return connection_figure(*cli, "in_worker") <= 1; })); // /metrics itself
  REQUIRE(append(*cli, "s", "new") == 204);
  auto has_new = [](const chunked_response& r) {
    return r.bad || r.closed || r.body.find("data:new\n") != std::string::npos;
  };
  REQUIRE(sse.read_until(has_new, 20s));
  for (std::size_t i = 0; i < sse.size(); ++i) {
    INFO("response " << i);
    CHECK_FALSE(sse[i].bad);
    CHECK_FALSE(sse[i].closed);
    CHECK(sse[i].body.rfind("event: data\ndata:old\n\nevent: control\n", 0) == 0);
  }
  // Waiting again, each in the loop.
  CHECK(eventually([&] { return stream_waiting(srv) == 8; }));
}

TEST_CASE("an SSE reader whose stream is replaced under its path ends, not reading the new one",
          "[sqlite][http][streams][live]") {
  temp_dir dir;
  test_server srv{dir.file("swap.db"), four_workers()};
  auto cli = srv.client();
  // Megabytes: the reader, which reads nothing at first, holds its response in the loop.
  const std::string old_part(1 << 20, 'q'), new_part(1 << 20, 'z');
  auto fill = [&](const std::string& part) {
    REQUIRE(to_reply(cli->Put("/v1/stream/s", part, "text/plain")).status == 201);
    for (int i = 0; i < 3; ++i)
      REQUIRE(append(*cli, "s", part) == 204);
  };
  fill(old_part);
  chunked_followers sse{srv.port(), 1, raw_get("/v1/stream/s?offset=-1&live=sse"), 4096};
  REQUIRE(eventually([&] { return connection_figure(*cli, "following") == 1; }, 30s));
  // Another stream under the same path, as long: the reader's offsets exist in it too.
  REQUIRE(to_reply(cli->Delete("/v1/stream/s")).status == 204);
  fill(new_part);
  REQUIRE(sse.read_until([](const chunked_response& r) { return r.ended || r.closed || r.bad; },
                         60s));
  CHECK_FALSE(sse[0].bad);
  CHECK(sse[0].body.find(old_part) != std::string::npos);
  CHECK(sse[0].body.find('z') == std::string::npos); // no byte of the new stream
}
