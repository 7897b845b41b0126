// Durable Streams through a real server, beyond the conformance suite: tenants' wake-ups
// and anonymous access stay apart, forks and soft deletes outlive a restart, bad paths 400.
#include <future>

#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

reply put_stream(httplib::Client& cli, const std::string& path, const std::string& body,
                 httplib::Headers headers = {}) {
  return to_reply(cli.Put(("/v1/stream/" + path).c_str(), headers, body, "text/plain"));
}

reply post_stream(httplib::Client& cli, const std::string& path, const std::string& body) {
  return to_reply(cli.Post(("/v1/stream/" + path).c_str(), body, "text/plain"));
}

reply get_stream(httplib::Client& cli, const std::string& path_and_query) {
  return to_reply(cli.Get(("/v1/stream/" + path_and_query).c_str()));
}

/// The tenant's `streams.waiting` figure as its own key sees it in /metrics.
int64_t waiting(httplib::Client& cli) {
  auto j = json::parse(get(cli, "/metrics").body, nullptr, false);
  if (!j.is_object() || !j.contains("streams"))
    return -1;
  return j["streams"].value("waiting", int64_t{-1});
}

/// The status line and body of a request sent as raw bytes (the path exactly as written).
std::string raw_request(int port, const std::string& method, const std::string& target) {
  raw_socket raw{port};
  if (!raw.send(method + " " + target + " HTTP/1.1\r\nHost: t\r\nX-API-Key: test-key\r\n"
                "Content-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"))
    return {};
  return raw.read_all(5000ms);
}

} // namespace

TEST_CASE("an append in one tenant does not wake a long-poll on the same path in another",
          "[sqlite][http][streams][tenants][live]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.ds_longpoll_timeout = 1s;
  test_server srv{tenants_in(dir, {"a", "b"}), cfg};
  auto a = client_for(srv, "key-a");
  auto b = client_for(srv, "key-b");
  auto created = put_stream(*a, "same", "a0");
  REQUIRE(created.status == 201);
  REQUIRE(put_stream(*b, "same", "b0").status == 201);
  auto tail = created.header("Stream-Next-Offset");
  auto start = std::chrono::steady_clock::now();
  auto poll = std::async(std::launch::async, [&] {
    auto c = client_for(srv, "key-a");
    return get_stream(*c, "same?offset=" + tail + "&live=long-poll");
  });
  REQUIRE(eventually([&] { return waiting(*a) == 1; }));
  CHECK(waiting(*b) == 0);
  REQUIRE(post_stream(*b, "same", "b1").status == 204);
  REQUIRE(poll.wait_for(10s) == std::future_status::ready);
  auto r = poll.get();
  // Tenant b's append is not tenant a's data: a's poll runs to its timeout, empty.
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  CHECK(r.header("Stream-Next-Offset") == tail);
  CHECK(std::chrono::steady_clock::now() - start >= 1s);
  CHECK(get_stream(*a, "same").body == "a0");
  CHECK(get_stream(*b, "same").body == "b0b1");
}

TEST_CASE("DS_ANONYMOUS_TENANT serves one tenant's streams, never another's",
          "[sqlite][http][streams][tenants]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.ds_anonymous_tenant = "a";
  test_server srv{tenants_in(dir, {"a", "b"}), cfg};
  auto anon = srv.client(false);
  auto a = client_for(srv, "key-a");
  auto b = client_for(srv, "key-b");
  REQUIRE(put_stream(*b, "private", "of b").status == 201);
  REQUIRE(put_stream(*anon, "public", "of a").status == 201);
  CHECK(get_stream(*a, "public").body == "of a");
  check_error(get_stream(*b, "public"), 404, "stream_not_found");
  check_error(get_stream(*anon, "private"), 404, "stream_not_found");
  check_error(to_reply(anon->Put("/v1/stream/copy", {{"Stream-Forked-From", "/v1/stream/private"}},
                                 "", "text/plain")),
              404, "fork_source_not_found");
  check_error(to_reply(anon->Delete("/v1/stream/private")), 404, "stream_not_found");
  CHECK(get_stream(*b, "private").body == "of b");
  check_error(get(*anon, "/metrics"), 401, "unauthorized"); // streams only
}

TEST_CASE("forks and soft-deleted sources survive a restart", "[sqlite][http][streams]") {
  temp_dir dir;
  auto db = dir.file("forks.db");
  {
    test_server srv{db, quiet_config()};
    auto cli = srv.client();
    REQUIRE(put_stream(*cli, "src", "one,").status == 201);
    REQUIRE(put_stream(*cli, "fork", "", {{"Stream-Forked-From", "/v1/stream/src"}}).status
            == 201);
    REQUIRE(post_stream(*cli, "fork", "two,").status == 204);
    REQUIRE(post_stream(*cli, "src", "not-in-fork,").status == 204);
    // The fork still reads it: the source is soft-deleted, not removed.
    REQUIRE(to_reply(cli->Delete("/v1/stream/src")).status == 204);
    check_error(get_stream(*cli, "src"), 410, "stream_gone");
  }
  {
    test_server srv{db, quiet_config()};
    auto cli = srv.client();
    CHECK(get_stream(*cli, "fork").body == "one,two,");
    check_error(get_stream(*cli, "src"), 410, "stream_gone");
    check_error(put_stream(*cli, "src", ""), 409, "stream_deleted_with_forks");
    CHECK(post_stream(*cli, "fork", "three,").status == 204);
    // The last fork's delete removes the source with it.
    CHECK(to_reply(cli->Delete("/v1/stream/fork")).status == 204);
    check_error(get_stream(*cli, "src"), 404, "stream_not_found");
  }
  test_server srv{db, quiet_config()};
  auto cli = srv.client();
  check_error(get_stream(*cli, "fork"), 404, "stream_not_found");
  CHECK(put_stream(*cli, "src", "new").status == 201);
  CHECK(get_stream(*cli, "src").body == "new");
}

TEST_CASE("malformed stream paths are 400 invalid_stream_path, for every method",
          "[sqlite][http][streams]") {
  temp_dir dir;
  test_server srv{dir.file("paths.db"), quiet_config()};
  auto cli = srv.client();
  REQUIRE(put_stream(*cli, "ok", "kept").status == 201);
  const std::string too_long = "/v1/stream/" + std::string(1025, 'a');
  for (const std::string& target : std::vector<std::string>{
         "/v1/stream/a%00b", "/v1/stream/a%0ab",
         "/v1/stream/%ff%fe", "/v1/stream/a/%2e%2e/ok", "/v1/stream/a/%2E/b", "/v1/stream/",
         "/v1/stream/a%2f%2fb", "/v1/stream/a%zzb", "/v1/stream/a%", "/v1/stream/a%4",
         "/v1/stream/a%4?offset=-1", too_long}) {
    for (const char* method : {"PUT", "POST", "GET", "DELETE"}) {
      INFO(method << " " << target.substr(0, 60));
      auto answer = raw_request(srv.port(), method, target);
      CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
      CHECK(answer.find("\"code\":\"invalid_stream_path\"") != std::string::npos);
    }
  }
  CHECK(get_stream(*cli, "ok").body == "kept");
}
