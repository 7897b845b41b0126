// Durable Streams through a real server: what the conformance suite does not cover.
#include <future>
#include <thread>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* base = "/v1/stream/";

reply put_stream(httplib::Client& cli, const std::string& path, const std::string& body,
                 const std::string& type, httplib::Headers headers = {}) {
  return to_reply(cli.Put((base + path).c_str(), headers, body, type.c_str()));
}

reply post_stream(httplib::Client& cli, const std::string& path, const std::string& body,
                  const std::string& type, httplib::Headers headers = {}) {
  return to_reply(cli.Post((base + path).c_str(), headers, body, type.c_str()));
}

reply get_stream(httplib::Client& cli, const std::string& path_and_query,
                 httplib::Headers headers = {}) {
  return to_reply(cli.Get((base + path_and_query).c_str(), headers));
}

server_config stream_config() {
  auto cfg = quiet_config();
  cfg.ds_longpoll_timeout = 30s;
  return cfg;
}

} // namespace

TEST_CASE("streams, closure and producer state survive a restart", "[sqlite][http][streams]") {
  temp_dir dir;
  auto db = dir.file("ds.db");
  std::string tail;
  {
    test_server srv{db, stream_config()};
    auto cli = srv.client();
    REQUIRE(put_stream(*cli, "orders/1", R"([{"n":1}])", "application/json").status == 201);
    auto r = post_stream(*cli, "orders/1", R"({"n":2})", "application/json",
                         {{"Producer-Id", "p"}, {"Producer-Epoch", "3"}, {"Producer-Seq", "0"}});
    REQUIRE(r.status == 200);
    r = post_stream(*cli, "orders/1", "", "", {{"Stream-Closed", "true"}});
    REQUIRE(r.status == 204);
    tail = r.header("Stream-Next-Offset");
  }
  test_server srv{db, stream_config()};
  auto cli = srv.client();
  auto r = get_stream(*cli, "orders/1");
  CHECK(r.status == 200);
  CHECK(r.body == R"([{"n":1},{"n":2}])");
  CHECK(r.header("Stream-Closed") == "true");
  CHECK(r.header("Stream-Next-Offset") == tail);
  // The producer's retry after the restart is recognised: its state was stored with
  // the append it accepted.
  r = post_stream(*cli, "orders/1", R"({"n":2})", "application/json",
                  {{"Producer-Id", "p"}, {"Producer-Epoch", "2"}, {"Producer-Seq", "0"}});
  CHECK(r.status == 409); // closed, and a stale epoch besides
  auto head = to_reply(cli->Head("/v1/stream/orders/1"));
  CHECK(head.status == 200);
  CHECK(head.header("Stream-Next-Offset") == tail);
}

TEST_CASE("each tenant has its own streams", "[sqlite][http][streams][tenants]") {
  temp_dir dir;
  registry_options ropts;
  for (auto n : {"a", "b"})
    ropts.tenants.push_back(tenant_spec{n, dir.file(std::string{n} + ".db"),
                                        digest_of(std::string{"key-"} + n), ""});
  test_server srv{ropts, stream_config()};
  auto a = srv.client(false);
  a->set_default_headers({{"X-API-Key", "key-a"}});
  auto b = srv.client(false);
  b->set_default_headers({{"Authorization", "Bearer key-b"}});
  REQUIRE(put_stream(*a, "shared", "from a", "text/plain").status == 201);
  REQUIRE(put_stream(*b, "shared", "from b", "text/plain").status == 201);
  REQUIRE(put_stream(*a, "only-a", "secret", "text/plain").status == 201);
  CHECK(get_stream(*a, "shared").body == "from a");
  CHECK(get_stream(*b, "shared").body == "from b");
  check_error(get_stream(*b, "only-a"), 404, "stream_not_found");
  check_error(to_reply(b->Put("/v1/stream/x", {{"Stream-Forked-From", "/v1/stream/only-a"}},
                              "", "text/plain")),
              404, "fork_source_not_found");
  CHECK(to_reply(a->Delete("/v1/stream/shared")).status == 204);
  CHECK(get_stream(*b, "shared").body == "from b");
}

TEST_CASE("keys: 401 without one, unless DS_ANONYMOUS_TENANT; preflights need none",
          "[sqlite][http][streams]") {
  temp_dir dir;
  {
    test_server srv{dir.file("a.db"), stream_config()};
    auto anon = srv.client(false);
    auto r = get_stream(*anon, "x");
    check_error(r, 401, "unauthorized");
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
    auto pre = to_reply(anon->Options("/v1/stream/x", {{"Origin", "https://example.com"},
                                                       {"Access-Control-Request-Method", "PUT"}}));
    CHECK(pre.status == 204);
    CHECK(pre.header("Access-Control-Allow-Origin") == "*");
    CHECK(pre.header("Access-Control-Allow-Methods").find("PUT") != std::string::npos);
    check_error(to_reply(anon->Options("/events")), 401, "unauthorized");
  }
  auto cfg = stream_config();
  cfg.ds_anonymous_tenant = "default";
  test_server srv{dir.file("b.db"), cfg};
  auto anon = srv.client(false);
  CHECK(put_stream(*anon, "open", "hi", "text/plain").status == 201);
  CHECK(get_stream(*srv.client(), "open").body == "hi"); // the same tenant's streams
  check_error(to_reply(anon->Get("/events?from=1")), 401, "unauthorized"); // streams only
  auto wrong = srv.client(false);
  wrong->set_default_headers({{"X-API-Key", "wrong"}});
  check_error(get_stream(*wrong, "open"), 401, "unauthorized"); // a wrong key is no key
}

TEST_CASE("limits: streams per tenant, bytes per stream, body size", "[sqlite][http][streams]") {
  temp_dir dir;
  auto cfg = stream_config();
  cfg.ds_max_streams = 2;
  cfg.ds_max_stream_bytes = 10;
  cfg.max_body_bytes = 2048;
  test_server srv{dir.file("l.db"), cfg};
  auto cli = srv.client();
  CHECK(put_stream(*cli, "a", "12345", "text/plain").status == 201);
  CHECK(put_stream(*cli, "b", "", "text/plain").status == 201);
  check_error(put_stream(*cli, "c", "", "text/plain"), 507, "too_many_streams");
  check_error(post_stream(*cli, "a", "123456", "text/plain"), 413, "stream_too_large");
  CHECK(post_stream(*cli, "a", "12345", "text/plain").status == 204);
  check_error(post_stream(*cli, "b", std::string(4096, 'x'), "text/plain"), 413,
              "payload_too_large");
  CHECK(to_reply(cli->Delete("/v1/stream/b")).status == 204);
  CHECK(put_stream(*cli, "c", "", "text/plain").status == 201);
  CHECK(get_stream(*cli, "a").body == "1234512345");
}

TEST_CASE("bad input gets a 4xx JSON error and changes nothing", "[sqlite][http][streams]") {
  temp_dir dir;
  test_server srv{dir.file("bad.db"), stream_config()};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "s", "data", "text/plain").status == 201);
  REQUIRE(put_stream(*cli, "j", "", "application/json").status == 201);
  struct create_case {
    std::string path;
    httplib::Headers headers;
    int status;
    std::string code;
  };
  for (const auto& c : std::vector<create_case>{
         {"a//b", {}, 400, "invalid_stream_path"},
         {"a/../b", {}, 400, "invalid_stream_path"},
         {"__ds/subscriptions/x", {}, 400, "invalid_stream_path"},
         {"", {}, 400, "invalid_stream_path"},
         {"t", {{"Stream-TTL", "abc"}}, 400, "invalid_ttl"},
         {"t", {{"Stream-TTL", "-1"}}, 400, "invalid_ttl"},
         {"t", {{"Stream-TTL", "60"}, {"Stream-Expires-At", "2030-01-01T00:00:00Z"}}, 400,
          "invalid_expiry"},
         {"t", {{"Stream-Expires-At", "tomorrow"}}, 400, "invalid_expires_at"},
         {"t", {{"Stream-Fork-Offset", "0000000000000000_0000000000000000"}}, 400,
          "invalid_fork"},
         {"t", {{"Stream-Forked-From", "/v1/stream/s"}, {"Stream-Fork-Offset", "0_0"}}, 400,
          "invalid_fork_offset"},
         {"t", {{"Stream-Forked-From", "/v1/stream/s"}, {"Stream-Fork-Sub-Offset", "x"}}, 400,
          "invalid_fork_sub_offset"},
         {"t", {{"Stream-Forked-From", "/v1/stream/a//b"}}, 400, "invalid_fork"},
         {"s", {{"Stream-TTL", "60"}}, 409, "stream_exists"},
       }) {
    INFO("PUT " << c.path);
    check_error(put_stream(*cli, c.path, "", "text/plain", c.headers), c.status, c.code);
  }
  struct append_case {
    std::string path;
    std::string body;
    std::string type;
    httplib::Headers headers;
    int status;
    std::string code;
  };
  for (const auto& c : std::vector<append_case>{
         {"s", "x", "text/plain", {{"Producer-Id", "p"}}, 400, "invalid_producer"},
         {"s", "x", "text/plain",
          {{"Producer-Id", "p"}, {"Producer-Epoch", "1e3"}, {"Producer-Seq", "0"}}, 400,
          "invalid_producer"},
         {"s", "x", "text/plain", {{"Stream-Seq", std::string(300, 'a')}}, 400,
          "invalid_stream_seq"},
         {"s", "", "text/plain", {}, 400, "empty_body"},
         {"s", "x", "garbage", {}, 400, "missing_content_type"},
         {"s", "{}", "application/json", {}, 409, "content_type_mismatch"},
         {"j", "{ invalid json }", "application/json", {}, 400, "invalid_json"},
         {"j", "[]", "application/json", {}, 400, "empty_json_array"},
         {"j", "[1,", "application/json", {}, 400, "invalid_json"},
         {"missing", "x", "text/plain", {}, 404, "stream_not_found"},
       }) {
    INFO("POST " << c.path << " " << c.body);
    httplib::Headers h = c.headers;
    auto r = post_stream(*cli, c.path, c.body, c.type, h);
    check_error(r, c.status, c.code);
    CHECK(r.header("X-Content-Type-Options") == "nosniff");
  }
  {
    // No Content-Type at all (the library's client always sends one).
    raw_socket raw{srv.port()};
    REQUIRE(raw.send("POST /v1/stream/s HTTP/1.1\r\nHost: t\r\nX-API-Key: test-key\r\n"
                     "Content-Length: 1\r\nConnection: close\r\n\r\nx"));
    auto answer = raw.read_all(5000ms);
    CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(answer.find("\"code\":\"missing_content_type\"") != std::string::npos);
  }
  for (const char* q : {"s?offset=garbage", "s?offset=", "s?offset=-1&offset=now",
                        "s?live=long-poll", "s?live=sse", "s?offset=-1&live=forever"})
    check_error(get_stream(*cli, q), 400, "invalid_parameter");
  check_error(get_stream(*cli, "s?offset=0000000000000009_0000000000000009"), 400,
              "invalid_offset");
  check_error(get_stream(*cli, "s?offset=0000000000000001_0000000000000003"), 400,
              "invalid_offset");
  auto patch = to_reply(cli->Patch("/v1/stream/s", "x", "text/plain"));
  check_error(patch, 405, "method_not_allowed");
  CHECK(patch.header("Allow").find("PUT") != std::string::npos);
  CHECK(get_stream(*cli, "s").body == "data");
  CHECK(get_stream(*cli, "j").body == "[]");
}

TEST_CASE("a stream's content type is kept as sent, forms included", "[sqlite][http][streams]") {
  temp_dir dir;
  test_server srv{dir.file("ct.db"), stream_config()};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "f", "a=b&c", "application/x-www-form-urlencoded").status == 201);
  CHECK(post_stream(*cli, "f", "&d=e", "application/x-www-form-urlencoded").status == 204);
  auto r = get_stream(*cli, "f");
  CHECK(r.header("Content-Type") == "application/x-www-form-urlencoded");
  CHECK(r.body == "a=b&c&d=e");
}

TEST_CASE("a multipart/form-data stream keeps its type and the bytes as sent",
          "[sqlite][http][streams]") {
  temp_dir dir;
  test_server srv{dir.file("mp.db"), stream_config()};
  auto cli = srv.client();
  const std::string type = "multipart/form-data; boundary=xx";
  const std::string part = "--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n";
  REQUIRE(put_stream(*cli, "m", part, type).status == 201);
  CHECK(post_stream(*cli, "m", "--xx--\r\n", type).status == 204);
  CHECK(post_stream(*cli, "m", "x", "text/plain").status == 409); // another type
  auto r = get_stream(*cli, "m");
  CHECK(r.header("Content-Type") == type);
  CHECK(r.body == part + "--xx--\r\n");
}

TEST_CASE("a long-poll is answered by the append it waits for", "[sqlite][http][streams][live]") {
  temp_dir dir;
  test_server srv{dir.file("lp.db"), stream_config()};
  auto cli = srv.client();
  auto created = put_stream(*cli, "lp", "old", "text/plain");
  REQUIRE(created.status == 201);
  auto tail = created.header("Stream-Next-Offset");
  auto start = std::chrono::steady_clock::now();
  auto poll = std::async(std::launch::async, [&] {
    auto c = srv.client();
    return get_stream(*c, "lp?offset=" + tail + "&live=long-poll");
  });
  auto& stats = srv.get_tenant()->stats();
  REQUIRE(eventually([&] { return stats.stream_waiting.load() == 1; }));
  REQUIRE(post_stream(*cli, "lp", "new", "text/plain").status == 204);
  REQUIRE(poll.wait_for(10s) == std::future_status::ready);
  auto r = poll.get();
  CHECK(r.status == 200);
  CHECK(r.body == "new");
  CHECK(r.header("Stream-Up-To-Date") == "true");
  CHECK_FALSE(r.header("Stream-Cursor").empty());
  CHECK(std::chrono::steady_clock::now() - start < 20s); // well before the 30 s timeout
  CHECK(stats.stream_waiting.load() == 0);
}

TEST_CASE("a long-poll ends with 204 after DS_LONGPOLL_TIMEOUT", "[sqlite][http][streams][live]") {
  temp_dir dir;
  auto cfg = stream_config();
  cfg.ds_longpoll_timeout = 300ms;
  test_server srv{dir.file("lpt.db"), cfg};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "lp", "", "text/plain").status == 201);
  auto start = std::chrono::steady_clock::now();
  auto r = get_stream(*cli, "lp?offset=now&live=long-poll");
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK(r.status == 204);
  CHECK(r.header("Stream-Up-To-Date") == "true");
  CHECK(r.header("Stream-Next-Offset") == "0000000000000000_0000000000000000");
}

TEST_CASE("an SSE response ends after DS_SSE_LIFETIME with a control event",
          "[sqlite][http][streams][live]") {
  temp_dir dir;
  auto cfg = stream_config();
  cfg.ds_sse_lifetime = 300ms;
  cfg.ds_longpoll_timeout = 100ms; // keep-alive control events while idle
  test_server srv{dir.file("sse.db"), cfg};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "e", "x", "text/plain").status == 201);
  std::string events;
  auto start = std::chrono::steady_clock::now();
  auto res = cli->Get("/v1/stream/e?offset=-1&live=sse", [&](const char* p, size_t n) {
    events.append(p, n);
    return true;
  });
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/event-stream");
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK(events.rfind("event: data\ndata:x\n\nevent: control\n", 0) == 0);
  CHECK(events.find("\"upToDate\":true") != std::string::npos);
  CHECK(events.find("streamClosed") == std::string::npos); // open: the client reconnects
}

TEST_CASE("shutdown ends waiting long-polls at once", "[sqlite][http][streams][live]") {
  temp_dir dir;
  test_server srv{dir.file("stop.db"), stream_config()};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "w", "", "text/plain").status == 201);
  auto poll = std::async(std::launch::async, [&] {
    auto c = srv.client();
    return get_stream(*c, "w?offset=now&live=long-poll");
  });
  REQUIRE(eventually([&] { return srv.get_tenant()->stats().stream_waiting.load() == 1; }));
  auto start = std::chrono::steady_clock::now();
  srv.stop();
  REQUIRE(poll.wait_for(10s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - start < 10s); // not the 30 s timeout
  auto r = poll.get();
  CHECK(r.status == 204);
}

TEST_CASE("stream figures in /metrics, JSON and Prometheus", "[sqlite][http][streams][metrics]") {
  temp_dir dir;
  test_server srv{dir.file("m.db"), stream_config()};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "m", "abc", "text/plain").status == 201);
  REQUIRE(post_stream(*cli, "m", "de", "text/plain").status == 204);
  REQUIRE(get_stream(*cli, "m").body == "abcde");
  auto j = json::parse(get(*cli, "/metrics").body, nullptr, false);
  REQUIRE(j.is_object());
  auto streams = j["streams"];
  CHECK(streams["writes"] == 2);
  CHECK(streams["bytes_written"] == 2); // appended by POST; the create's body is not
  CHECK(streams["reads"] == 1);
  CHECK(streams["bytes_read"] == 5);
  CHECK(streams["waiting"] == 0);
  CHECK(j["http"]["routes"]["stream_append"]["2xx"] == 1);
  auto prom = get(*cli, "/metrics/prometheus").body;
  CHECK(prom.find("ebuse_stream_writes_total{tenant=\"default\"} 2") != std::string::npos);
  CHECK(prom.find("ebuse_stream_waiting{tenant=\"default\"} 0") != std::string::npos);
}

TEST_CASE("limit pages by appends, as ebu's store reads", "[sqlite][http][streams]") {
  temp_dir dir;
  test_server srv{dir.file("ebu.db"), stream_config()};
  auto cli = srv.client();
  // ebu creates the stream without a body and appends each event as a one-element array.
  REQUIRE(put_stream(*cli, "ebu/orders", "", "application/json").status == 201);
  for (int i = 1; i <= 3; ++i)
    REQUIRE(post_stream(*cli, "ebu/orders",
                        "[{\"type\":\"order.created\",\"data\":{\"n\":" + std::to_string(i) + "}}]",
                        "application/json")
              .status
            == 204);
  auto first = get_stream(*cli, "ebu/orders?offset=-1&limit=2");
  REQUIRE(first.status == 200);
  CHECK(parse_array(first.body).size() == 2);
  CHECK_FALSE(first.has_header("Stream-Up-To-Date"));
  auto rest = get_stream(*cli, "ebu/orders?offset=" + first.header("Stream-Next-Offset")
                                 + "&limit=2");
  auto events = parse_array(rest.body);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["data"]["n"] == 3);
  CHECK(rest.header("Stream-Up-To-Date") == "true");
  check_error(get_stream(*cli, "ebu/orders?offset=-1&limit=0"), 400, "invalid_parameter");
}
