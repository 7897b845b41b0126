// HTTP tests for POST /events and POST /events/batch against a real server and SQLite file.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

// Reads everything back through GET /events?from=0.
std::string read_all(httplib::Client& cli) {
  auto r = get(cli, "/events?from=0");
  REQUIRE(r.status == 200);
  return r.body;
}

int64_t head(httplib::Client& cli) {
  auto r = get(cli, "/position");
  REQUIRE(r.status == 200);
  return json::parse(r.body).at("position").get<int64_t>();
}

} // namespace

TEST_CASE("POST /events echoes the stored event with its position", "[http][events]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  auto r = post(*cli, "/events",
                R"({"type":"user.created","data":{"id":1},"timestamp":"2024-01-01T00:00:00Z"})");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "{\"position\":1,\"type\":\"user.created\",\"data\":{\"id\":1},"
                  "\"timestamp\":\"2024-01-01T00:00:00Z\"}\n");

  // A client-sent position is ignored; the next one is assigned.
  r = post(*cli, "/events",
           R"({"position":99,"type":"b","data":[],"timestamp":"2024-01-01T00:00:01Z"})");
  REQUIRE(r.status == 200);
  CHECK(r.body == "{\"position\":2,\"type\":\"b\",\"data\":[],"
                  "\"timestamp\":\"2024-01-01T00:00:01Z\"}\n");

  // Keys match case-insensitively, as Go's decoder does.
  r = post(*cli, "/events", R"({"Type":"c","DATA":true,"Timestamp":"2024-01-01T00:00:02Z"})");
  REQUIRE(r.status == 200);
  CHECK(r.body == "{\"position\":3,\"type\":\"c\",\"data\":true,"
                  "\"timestamp\":\"2024-01-01T00:00:02Z\"}\n");

  // `curl -d` declares a form body; it is read as JSON all the same.
  auto form = to_reply(cli->Post("/events",
                                 R"({"type":"d","data":4,"timestamp":"2024-01-01T00:00:03Z"})",
                                 "application/x-www-form-urlencoded"));
  REQUIRE(form.status == 200);
  CHECK(form.body == "{\"position\":4,\"type\":\"d\",\"data\":4,"
                     "\"timestamp\":\"2024-01-01T00:00:03Z\"}\n");

  CHECK(head(*cli) == 4);
  CHECK(read_all(*cli)
        == "[{\"position\":1,\"type\":\"user.created\",\"data\":{\"id\":1},"
           "\"timestamp\":\"2024-01-01T00:00:00Z\"},"
           "{\"position\":2,\"type\":\"b\",\"data\":[],\"timestamp\":\"2024-01-01T00:00:01Z\"},"
           "{\"position\":3,\"type\":\"c\",\"data\":true,"
           "\"timestamp\":\"2024-01-01T00:00:02Z\"},"
           "{\"position\":4,\"type\":\"d\",\"data\":4,"
           "\"timestamp\":\"2024-01-01T00:00:03Z\"}]\n");
}

TEST_CASE("POST /events keeps timestamps as Go marshals them", "[http][events]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  struct row {
    const char* sent;
    const char* echoed;
  };
  const row rows[] = {
    {"2024-05-06T07:08:09.123456789+02:00", "2024-05-06T07:08:09.123456789+02:00"},
    {"2024-01-01T00:00:00.500Z", "2024-01-01T00:00:00.5Z"},
    {"2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z"},
    {"2023-12-31T23:59:59-05:30", "2023-12-31T23:59:59-05:30"},
    {"2024-02-29T12:00:00.120+00:00", "2024-02-29T12:00:00.12Z"},
  };
  std::string expected_all = "[";
  int64_t pos = 0;
  for (const auto& x : rows) {
    ++pos;
    INFO("sent " << x.sent);
    auto r = post(*cli, "/events",
                  std::string{"{\"type\":\"ts\",\"data\":1,\"timestamp\":\""} + x.sent + "\"}");
    REQUIRE(r.status == 200);
    auto obj = "{\"position\":" + std::to_string(pos) + ",\"type\":\"ts\",\"data\":1,"
               + "\"timestamp\":\"" + x.echoed + "\"}";
    CHECK(r.body == obj + "\n");
    if (pos > 1)
      expected_all += ",";
    expected_all += obj;
  }
  expected_all += "]\n";
  CHECK(read_all(*cli) == expected_all);
}

TEST_CASE("POST /events sets an omitted timestamp to the time of the append",
          "[http][events]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  for (const char* body :
       {R"({"type":"a","data":1})", R"({"type":"a","data":1,"timestamp":null})"}) {
    INFO(body);
    auto before = std::time(nullptr);
    auto r = post(*cli, "/events", body);
    auto after = std::time(nullptr);
    REQUIRE(r.status == 200);
    auto j = json::parse(r.body);
    auto ts = j.at("timestamp").get<std::string>();
    std::time_t t = 0;
    INFO("timestamp " << ts);
    REQUIRE(parse_utc_seconds(ts, t));
    CHECK(t >= before - 1);
    CHECK(t <= after + 1);
    // The read-back is the same value as the echo.
    auto back = parse_array(get(*cli, "/events?from=" + j["position"].dump()).body);
    REQUIRE(back.size() == 1);
    CHECK(back[0]["timestamp"] == ts);
  }
}

TEST_CASE("POST /events returns data verbatim", "[http][events]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  const std::string sent_data =
    "{ \"z\" : 1.10 ,\n\t\"a\": 1E+2, \"n\": 123456789012345678901234567890,\r\n"
    "  \"s\": \"\xC3\xA9t\xC3\xA9 \xE2\x98\x83  two  spaces\", \"e\": \"\\u00e9\\n\","
    "  \"arr\": [ 1 , -0.0 , 2e-7 , null , false ], \"o\": { } }";
  const std::string stored_data =
    "{\"z\":1.10,\"a\":1E+2,\"n\":123456789012345678901234567890,"
    "\"s\":\"\xC3\xA9t\xC3\xA9 \xE2\x98\x83  two  spaces\",\"e\":\"\\u00e9\\n\","
    "\"arr\":[1,-0.0,2e-7,null,false],\"o\":{}}";
  auto r = post(*cli, "/events",
                "{\"type\":\"v\",\"data\":" + sent_data
                  + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}");
  REQUIRE(r.status == 200);
  const std::string obj = "{\"position\":1,\"type\":\"v\",\"data\":" + stored_data
                          + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}";
  CHECK(r.body == obj + "\n");
  CHECK(read_all(*cli) == "[" + obj + "]\n");

  // Scalars as the whole of data.
  const char* scalars[] = {"1.10", "1E+2", "123456789012345678901234567890",
                           "\"\xC3\xA9t\xC3\xA9\"", "null"};
  int64_t pos = 1;
  for (const char* s : scalars) {
    ++pos;
    INFO("data " << s);
    r = post(*cli, "/events",
             std::string{"{\"type\":\"s\",\"data\":"} + s
               + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}");
    REQUIRE(r.status == 200);
    auto want = "{\"position\":" + std::to_string(pos) + ",\"type\":\"s\",\"data\":" + s
                + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}";
    CHECK(r.body == want + "\n");
    CHECK(get(*cli, "/events?from=" + std::to_string(pos)).body == "[" + want + "]\n");
  }

  // The type is written the way Go's encoder writes a string: HTML characters, U+2028
  // and control characters escaped, other UTF-8 kept.
  r = post(*cli, "/events", "{\"type\":\"a<b>&c\\u2028\\t\\u0001\\\"\",\"data\":0,"
                            "\"timestamp\":\"2024-01-01T00:00:00Z\"}");
  REQUIRE(r.status == 200);
  CHECK(r.body == "{\"position\":7,\"type\":\"a\\u003cb\\u003e\\u0026c\\u2028\\t\\u0001\\\"\","
                  "\"data\":0,\"timestamp\":\"2024-01-01T00:00:00Z\"}\n");
  CHECK(get(*cli, "/events?from=7").body == "[" + r.body.substr(0, r.body.size() - 1) + "]\n");

  // A non-ASCII type is kept too.
  r = post(*cli, "/events", "{\"type\":\"\xC3\xA9v\xC3\xA9nement\",\"data\":0,"
                            "\"timestamp\":\"2024-01-01T00:00:00Z\"}");
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["type"] == "\xC3\xA9v\xC3\xA9nement");
}

TEST_CASE("POST /events/batch appends all events in one go", "[http][events][batch]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  auto r = post(*cli, "/events/batch",
                R"([{"type":"a","data":1},{"type":"b","data":{"x":[1,2]}},)"
                R"({"type":"c","data":"s"}])");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == "{\"first_position\":1,\"last_position\":3,\"saved\":3}\n");

  r = post(*cli, "/events/batch", make_batch(4, 2));
  REQUIRE(r.status == 200);
  CHECK(r.body == "{\"first_position\":4,\"last_position\":5,\"saved\":2}\n");

  auto all = parse_array(read_all(*cli));
  REQUIRE(all.size() == 5);
  CHECK(all[0]["type"] == "a");
  CHECK(all[1]["data"] == json::parse(R"({"x":[1,2]})"));
  CHECK(all[2]["data"] == "s");
  CHECK(all[3].dump() == json::parse(expected_batch_event(4, 4)).dump());

  // The largest batch allowed.
  r = post(*cli, "/events/batch", make_batch(6, 1000));
  REQUIRE(r.status == 200);
  CHECK(r.body == batch_reply(6, 1005, 1000));
  CHECK(head(*cli) == 1005);
  auto page = get(*cli, "/events?from=6&to=1005");
  REQUIRE(page.status == 200);
  std::string want = "[";
  for (int64_t i = 6; i <= 1005; ++i) {
    if (i > 6)
      want += ",";
    want += expected_batch_event(i, i);
  }
  CHECK(page.body == want + "]\n");
}

TEST_CASE("POST /events/batch rejects bad batches and writes nothing",
          "[http][events][batch]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  check_error(post(*cli, "/events/batch", make_batch(1, 1001)), 400, "invalid_batch");
  check_error(post(*cli, "/events/batch", "[]"), 400, "invalid_batch");
  check_error(post(*cli, "/events/batch", " [ ] "), 400, "invalid_batch");
  check_error(post(*cli, "/events/batch", R"({"type":"a","data":1})"), 400, "invalid_batch");
  check_error(post(*cli, "/events/batch", "42"), 400, "invalid_batch");
  check_error(post(*cli, "/events/batch", ""), 400, "invalid_json");
  check_error(post(*cli, "/events/batch", R"([{"type":"a","data":1},)"), 400, "invalid_json");
  check_error(post(*cli, "/events/batch", R"([{"type":"a","data":1}] [])"), 400,
              "invalid_json");

  // One bad event anywhere fails the whole batch.
  auto with_bad = [](const std::string& bad) {
    auto b = make_batch(1, 500);
    b.pop_back();
    return b + "," + bad + "," + make_batch(501, 10).substr(1);
  };
  check_error(post(*cli, "/events/batch", with_bad(R"({"data":1})")), 400, "invalid_event");
  check_error(post(*cli, "/events/batch", with_bad(R"({"type":"","data":1})")), 400,
              "invalid_event");
  check_error(post(*cli, "/events/batch", with_bad(R"({"type":"a"})")), 400, "invalid_event");
  check_error(post(*cli, "/events/batch",
                   with_bad(R"({"type":"a","data":1,"timestamp":"2024-13-01T00:00:00Z"})")),
              400, "invalid_event");
  check_error(post(*cli, "/events/batch", with_bad("7")), 400, "invalid_event");
  check_error(post(*cli, "/events/batch", with_bad(R"({"type":"a","data":tru})")), 400,
              "invalid_json");

  CHECK(head(*cli) == 0);
  CHECK(read_all(*cli) == "[]\n");

  // The store still works afterwards and starts at position 1.
  auto r = post(*cli, "/events/batch", make_batch(1, 3));
  REQUIRE(r.status == 200);
  CHECK(r.body == batch_reply(1, 3, 3));
}

TEST_CASE("a multipart/form-data body is read as the bytes sent: 400, nothing written",
          "[http][events][errors]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  // The library would parse it into parts; as in the original, it is not JSON.
  const std::string body = "--xx\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n"
                           "{\"type\":\"a\",\"data\":{}}\r\n--xx--\r\n";
  for (const char* path : {"/events/import", "/events", "/events/batch"}) {
    INFO(path);
    auto r = to_reply(cli->Post(path, body, "multipart/form-data; boundary=xx"));
    check_error(r, 400, "invalid_json");
  }
  CHECK(head(*cli) == 0);
  seed(*cli, 1);
  check_error(to_reply(cli->Post("/subscriptions/s/position", body,
                                 "multipart/form-data; boundary=xx")),
              400, "invalid_subscription");
  CHECK(head(*cli) == 1);
  CHECK(get(*cli, "/subscriptions/s/position").body == "{\"position\":0}\n");
  // The connection stays usable.
  CHECK(get(*cli, "/position").status == 200);
}

TEST_CASE("POST /events rejects bad events with a JSON error", "[http][events][errors]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  struct row {
    const char* body;
    const char* code;
  };
  const row rows[] = {
    {"", "invalid_json"},
    {"   ", "invalid_json"},
    {"{", "invalid_json"},
    {R"({"type":"a","data":1)", "invalid_json"},
    {R"({"type":"a" "data":1})", "invalid_json"},
    {R"({type:"a","data":1})", "invalid_json"},
    {R"({"type":"a","data":tru})", "invalid_json"},
    {R"({"type":"a","data":01})", "invalid_json"},
    {R"({"type":"a","data":NaN})", "invalid_json"},
    {"{\"type\":\"a\",\"data\":\"\xff\"}", "invalid_json"},
    {R"({"type":"a","data":1} x)", "invalid_json"},
    {R"({"type":"a","data":1}{})", "invalid_json"},
    {R"({"data":1})", "invalid_event"},
    {R"({"type":null,"data":1})", "invalid_event"},
    {R"({"type":"","data":1})", "invalid_event"},
    {R"({"type":5,"data":1})", "invalid_event"},
    {R"({"type":["a"],"data":1})", "invalid_event"},
    {R"({"type":{"a":1},"data":1})", "invalid_event"},
    {R"({"type":"a"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"yesterday"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2024-13-01T00:00:00Z"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2023-02-29T00:00:00Z"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2024-01-01 00:00:00Z"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2024-06-30T23:59:60Z"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2024-01-01T24:00:00Z"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2024-01-01T00:00:00+25:00"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":""})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":"2024-01-01T00:00:00"})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":12345})", "invalid_event"},
    {R"({"type":"a","data":1,"timestamp":true})", "invalid_event"},
    {R"({"type":"a","data":1,"position":"x"})", "invalid_event"},
    {R"([{"type":"a","data":1}])", "invalid_event"},
    {R"("event")", "invalid_event"},
  };
  for (const auto& x : rows) {
    INFO("body: " << x.body);
    check_error(post(*cli, "/events", x.body), 400, x.code);
  }
  CHECK(head(*cli) == 0);
  CHECK(read_all(*cli) == "[]\n");
}

TEST_CASE("POST /events copes with large and deeply nested input", "[http][events][limits]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();

  // Deep but reasonable nesting is stored and returned as sent.
  const std::string deep = std::string(1000, '[') + "1" + std::string(1000, ']');
  auto r = post(*cli, "/events", event_body("deep", deep));
  REQUIRE(r.status == 200);
  auto back = get(*cli, "/events?from=1");
  REQUIRE(back.status == 200);
  CHECK(back.body.find("\"data\":" + deep + ",") != std::string::npos);

  // Hostile nesting is a 400, not a crash or a 5xx; the server keeps serving.
  const std::string hostile = std::string(200000, '[') + std::string(200000, ']');
  check_error(post(*cli, "/events", event_body("deep", hostile)), 400, "invalid_json");
  check_error(post(*cli, "/events", "{\"type\":\"x\",\"data\":" + std::string(200000, '{')),
              400, "invalid_json");
  check_error(post(*cli, "/events", "{\"type\":\"\xff\",\"data\":1}"), 400, "invalid_json");

  // A 1 MiB event round-trips.
  const std::string big = "\"" + std::string(1 << 20, 'y') + "\"";
  r = post(*cli, "/events", event_body("big", big));
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["position"] == 2);
  back = get(*cli, "/events?from=2");
  REQUIRE(back.status == 200);
  CHECK(back.body.find("\"data\":" + big + ",") != std::string::npos);
  CHECK(get(*cli, "/health").status == 200);
  CHECK(get(*cli, "/position").body == "{\"position\":2}\n");
}
