// GET /events/export and POST /events/import: NDJSON, ranges, round trips, bad input.
#include <future>
#include <thread>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

registry_options three_tenants(const temp_dir& dir) {
  return tenants_in(dir, {"src", "dst", "other"});
}

reply import(httplib::Client& cli, const std::string& body) {
  return to_reply(cli.Post("/events/import", body, "application/x-ndjson"));
}

// Sends `body` chunked, in pieces of `piece` bytes.
reply import_chunked(httplib::Client& cli, const std::string& body, size_t piece) {
  return to_reply(cli.Post(
    "/events/import",
    [&body, piece](size_t offset, httplib::DataSink& sink) {
      if (offset < body.size())
        sink.write(body.data() + offset, std::min(piece, body.size() - offset));
      if (offset + piece >= body.size())
        sink.done();
      return true;
    },
    "application/x-ndjson"));
}

std::string line(int64_t pos, const std::string& data = "1") {
  return "{\"position\":" + std::to_string(pos) + ",\"type\":\"t\",\"data\":" + data
         + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}\n";
}

} // namespace

TEST_CASE("an export is the /events objects, one per line", "[http][export]") {
  temp_dir dir;
  test_server srv{three_tenants(dir), quiet_config()};
  auto src = client_for(srv, "key-src");
  seed(*src, 2500);
  auto all = get(*src, "/events/export");
  REQUIRE(all.status == 200);
  CHECK(all.header("Content-Type") == "application/x-ndjson");
  std::string expected;
  for (int64_t i = 1; i <= 2500; ++i)
    expected += expected_batch_event(i, i) + "\n";
  CHECK(all.body == expected);
  // The same objects as GET /events returns, byte for byte.
  std::string e1 = expected_batch_event(1, 1), e2 = expected_batch_event(2, 2),
              e3 = expected_batch_event(3, 3);
  REQUIRE(get(*src, "/events?from=1&to=3").body == "[" + e1 + "," + e2 + "," + e3 + "]\n");
  CHECK(get(*src, "/events/export?to=3").body == e1 + "\n" + e2 + "\n" + e3 + "\n");
  // Ranges: from and to inclusive; to < from and past the head are empty.
  CHECK(get(*src, "/events/export?from=1000&to=1001").body
        == expected_batch_event(1000, 1000) + "\n" + expected_batch_event(1001, 1001) + "\n");
  CHECK(get(*src, "/events/export?from=2500").body == expected_batch_event(2500, 2500) + "\n");
  CHECK(get(*src, "/events/export?from=5&to=4").body.empty());
  CHECK(get(*src, "/events/export?from=9000").body.empty());
  CHECK(get(*client_for(srv, "key-other"), "/events/export").body.empty());
  check_error(get(*src, "/events/export?from=-1"), 400, "invalid_parameter");
  check_error(get(*src, "/events/export?to=x"), 400, "invalid_parameter");
  check_error(get(*client_for(srv, ""), "/events/export"), 401, "unauthorized");
  // Compressed for a client that asks, like the other event responses.
  auto gz = get(*src, "/events/export", {{"Accept-Encoding", "gzip"}});
  CHECK(gz.header("Content-Encoding") == "gzip");
}

TEST_CASE("export, import into another tenant, export again: byte for byte", "[http][import]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.max_body_bytes = 100 * 1024; // the import is larger: it does not count
  test_server srv{three_tenants(dir), cfg};
  auto src = client_for(srv, "key-src");
  seed(*src, 24000);
  // Varied data, literal forms kept, and timestamps with offsets.
  REQUIRE(post(*src, "/events",
               R"({"type":"é \"q\"","data":{"n":1.10,"big":123456789012345678901234567890,)"
               R"("s":"a\nb"},"timestamp":"2024-05-06T07:08:09.123456789+02:00"})")
            .status == 200);
  REQUIRE(post(*src, "/events", R"({"type":"null","data":null})").status == 200);
  auto exported = get(*src, "/events/export");
  REQUIRE(exported.status == 200);
  REQUIRE(exported.body.size() > cfg.max_body_bytes);

  auto dst = client_for(srv, "key-dst");
  auto r = import(*dst, exported.body);
  REQUIRE(r.status == 200);
  CHECK(r.body == "{\"imported\":24002,\"first_position\":1,\"last_position\":24002}\n");
  CHECK(get(*dst, "/events/export").body == exported.body);
  CHECK(get(*dst, "/position").body == "{\"position\":24002}\n");
  // Appends go on after the imported head.
  auto next = json::parse(post(*dst, "/events", event_body("x", "1")).body);
  CHECK(next["position"] == 24003);

  // A second import into the same tenant: it is no longer empty.
  auto again = import(*dst, line(1));
  check_error(again, 409, "tenant_not_empty");
  CHECK(json::parse(again.body)["imported"] == 0);

  // A range keeps its positions; chunked in odd pieces the result is the same.
  auto part = get(*src, "/events/export?from=101&to=150").body;
  auto other = client_for(srv, "key-other");
  auto pr = import_chunked(*other, part, 77);
  REQUIRE(pr.status == 200);
  CHECK(pr.body == "{\"imported\":50,\"first_position\":101,\"last_position\":150}\n");
  CHECK(get(*other, "/events/export").body == part);
}

TEST_CASE("a bad line stops an import with its number; lines before it are kept",
          "[http][import]") {
  temp_dir dir;
  test_server srv{three_tenants(dir), quiet_config()};
  struct bad_case {
    std::string body;
    int status;
    const char* code;
    int64_t line;
    int64_t imported;
  };
  std::string good = line(1) + "\n" + line(2) + line(5);
  std::vector<bad_case> cases = {
    {good + "{\"position\":6,\"type\":\"t\"\n" + line(7), 400, "invalid_json", 5, 3},
    {good + line(6, "[1,") + line(7), 400, "invalid_json", 5, 3},
    {good + line(5), 400, "invalid_event", 5, 3},
    {good + line(4), 400, "invalid_event", 5, 3},
    {good + "{\"type\":\"t\",\"data\":1}\n", 400, "invalid_event", 5, 3},
    {"not json\n", 400, "invalid_json", 1, 0},
    {good + "{\"position\":6,\"type\":\"t\",\"data\":\"" + std::string(20000, 'x') + "\"}\n", 413,
     "payload_too_large", 5, 3},
  };
  auto cfg = quiet_config();
  cfg.max_body_bytes = 16 * 1024;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    temp_dir d;
    test_server s{three_tenants(d), cfg};
    auto cli = client_for(s, "key-dst");
    INFO("case " << i);
    auto r = import(*cli, cases[i].body);
    check_error(r, cases[i].status, cases[i].code);
    auto j = json::parse(r.body, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j["line"] == cases[i].line);
    CHECK(j["imported"] == cases[i].imported);
    CHECK(j["error"].get<std::string>().rfind("line " + std::to_string(cases[i].line) + ": ", 0)
          == 0);
    CHECK(get(*cli, "/position").body
          == "{\"position\":" + std::to_string(cases[i].imported ? 5 : 0) + "}\n");
  }
  // An empty body imports nothing; a tenant key is needed.
  auto empty = import(*client_for(srv, "key-dst"), "");
  CHECK(empty.body == "{\"imported\":0,\"first_position\":0,\"last_position\":0}\n");
  check_error(import(*client_for(srv, ""), line(1)), 401, "unauthorized");
}

TEST_CASE("an append that slips in during an import stops it", "[http][import]") {
  temp_dir dir;
  test_server srv{three_tenants(dir), quiet_config()};
  auto dst = client_for(srv, "key-dst");
  // The body arrives in two parts: the first chunk (10 000 lines) commits, another
  // client appends, then the rest arrives, and its chunk no longer finds the head it
  // expects.
  std::string first_part;
  for (int64_t p = 1; p <= 10000; ++p)
    first_part += line(p);
  std::string second_part = line(10001) + line(10002);
  std::promise<bool> appended;
  auto appended_done = appended.get_future();
  std::thread other{[&] {
    auto cli = client_for(srv, "key-dst");
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // Polls with a deadline until the first chunk is committed, then appends.
    while (std::chrono::steady_clock::now() < until)
      if (get(*cli, "/position").body == "{\"position\":10000}\n") {
        appended.set_value(post(*cli, "/events", event_body("intruder", "1")).status == 200);
        return;
      }
    appended.set_value(false);
  }};
  auto r = to_reply(dst->Post(
    "/events/import",
    [&](size_t offset, httplib::DataSink& sink) {
      if (offset == 0)
        return sink.write(first_part.data(), first_part.size());
      appended_done.wait_for(std::chrono::seconds(25));
      sink.write(second_part.data(), second_part.size());
      sink.done();
      return true;
    },
    "application/x-ndjson"));
  other.join();
  REQUIRE(appended_done.get());
  check_error(r, 409, "tenant_not_empty");
  CHECK(json::parse(r.body)["imported"] == 10000);
  CHECK(get(*dst, "/position").body == "{\"position\":10001}\n");
}
