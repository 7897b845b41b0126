// Unit tests for stream offsets, content types and JSON-mode bodies.
#include "streams/content_type.hpp"
#include "streams/json_batch.hpp"
#include "streams/offset.hpp"
#include "streams/types.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace ds = ebuse::streams;

TEST_CASE("offsets are fixed width and order like their positions", "[streams]") {
  CHECK(ds::format_offset({0, 0}) == "0000000000000000_0000000000000000");
  CHECK(ds::format_offset({3, 1234}) == "0000000000000003_0000000000001234");
  CHECK(ds::format_offset({ds::max_offset_component, ds::max_offset_component})
        == "9999999999999999_9999999999999999");
  // Text order is position order, including across digit counts.
  ds::offset a{9, 999}, b{10, 1000}, c{10, 1001};
  CHECK(ds::format_offset(a) < ds::format_offset(b));
  CHECK(ds::format_offset(b) < ds::format_offset(c));
  CHECK(a < b);
  CHECK(b < c);
  CHECK_FALSE(c < b);
  for (auto o : {a, b, c}) {
    ds::offset back;
    REQUIRE(ds::parse_exact_offset(ds::format_offset(o), back));
    CHECK(back == o);
  }
}

TEST_CASE("offset parameters: sentinels, exact form, everything else malformed", "[streams]") {
  CHECK(ds::parse_offset("-1").kind == ds::offset_kind::start);
  CHECK(ds::parse_offset("now").kind == ds::offset_kind::now);
  auto at = ds::parse_offset("0000000000000002_0000000000000010");
  CHECK(at.kind == ds::offset_kind::at);
  CHECK(at.at == ds::offset{2, 10});
  for (const char* bad :
       {"", "0", "-2", "NOW", "0,1", "0 1", "2_10", "000000000000002_0000000000000010",
        "0000000000000002-0000000000000010", "0000000000000002_000000000000001x",
        "+000000000000002_0000000000000010", "0000000000000002_00000000000000100",
        "../0000000000000000_000000000000000", "0000000000000000_000000000000000/",
        "0000000000000000_000000000000000\n"}) {
    INFO(bad);
    CHECK(ds::parse_offset(bad).kind == ds::offset_kind::malformed);
  }
  std::string nul = "0000000000000000_000000000000000";
  nul.push_back('\0');
  CHECK(ds::parse_offset(nul).kind == ds::offset_kind::malformed);
}

TEST_CASE("content types match by media type, case and parameters ignored", "[streams]") {
  CHECK(ds::media_type(" Application/JSON ; charset=utf-8") == "application/json");
  CHECK(ds::same_media_type("text/plain", "TEXT/PLAIN"));
  CHECK(ds::same_media_type("application/json; charset=utf-8", "application/json"));
  CHECK_FALSE(ds::same_media_type("text/plain", "application/json"));
  CHECK(ds::is_json("application/json;charset=UTF-8"));
  CHECK_FALSE(ds::is_json("application/jsonx"));
  CHECK(ds::valid_content_type("text/plain"));
  CHECK(ds::valid_content_type("application/vnd.api+json; charset=utf-8"));
  for (const char* bad : {"", "text", "/plain", "text/", "te xt/plain", "text/pl\"ain",
                          "text/plain\n"}) {
    INFO(bad);
    CHECK_FALSE(ds::valid_content_type(bad));
  }
  CHECK_FALSE(ds::valid_content_type(std::string(300, 'a') + "/b"));
}

TEST_CASE("SSE sends text types as text and everything else as base64", "[streams]") {
  CHECK(ds::sse_is_text("text/plain"));
  CHECK(ds::sse_is_text("text/csv; charset=utf-8"));
  CHECK(ds::sse_is_text("application/json"));
  CHECK_FALSE(ds::sse_is_text("application/octet-stream"));
  CHECK_FALSE(ds::sse_is_text("application/x-protobuf"));
  CHECK_FALSE(ds::sse_is_text("application/ndjson"));
  CHECK_FALSE(ds::sse_is_text("image/png"));
}

TEST_CASE("JSON bodies flatten exactly one level of array", "[streams]") {
  struct example {
    const char* body;
    const char* joined;
    int64_t count;
  };
  for (auto e : {example{R"({"event": "created"})", R"({"event":"created"})", 1},
                 example{R"([{"event": "a"}, {"event": "b"}])", R"({"event":"a"},{"event":"b"})", 2},
                 example{"[[1,2], [3,4]]", "[1,2],[3,4]", 2},
                 example{"[[[1,2,3]]]", "[[1,2,3]]", 1},
                 example{" 42 ", "42", 1},
                 example{"\"s\"", "\"s\"", 1},
                 example{"[null, 1.10, 1E+2]", "null,1.10,1E+2", 3}}) {
    INFO(e.body);
    ds::json_messages out;
    std::string detail;
    REQUIRE(ds::flatten_json(e.body, out, detail) == ds::json_body::ok);
    CHECK(out.joined == e.joined);
    CHECK(out.count == e.count);
  }
  ds::json_messages out;
  std::string detail;
  CHECK(ds::flatten_json("[]", out, detail) == ds::json_body::empty_array);
  CHECK(ds::flatten_json(" [ ] ", out, detail) == ds::json_body::empty_array);
  for (const char* bad : {"{ invalid json }", "[1,]", "[1 2]", "[1", "1 2", "[] []", "",
                          "{\"a\":1}x", "[\"\xff\"]"}) {
    INFO(bad);
    CHECK(ds::flatten_json(bad, out, detail) == ds::json_body::invalid);
    CHECK(out.count == 0);
  }
}

TEST_CASE("a stored JSON row yields its first n messages", "[streams]") {
  std::string out;
  CHECK(ds::take_json_messages(R"({"a":1},{"b":[2,3]},"c,d")", 2, out));
  CHECK(out == R"({"a":1},{"b":[2,3]})");
  CHECK(ds::take_json_messages(R"({"a":1},{"b":[2,3]},"c,d")", 3, out));
  CHECK(out == R"({"a":1},{"b":[2,3]},"c,d")");
  CHECK(ds::take_json_messages("1,2", 0, out));
  CHECK(out.empty());
  CHECK_FALSE(ds::take_json_messages("1,2", 3, out));
}

TEST_CASE("a fork's sub-offset takes bytes, or messages in JSON mode", "[streams]") {
  std::string out;
  CHECK(ds::take_sub_offset("hello", false, 3, out));
  CHECK(out == "hel");
  CHECK(ds::take_sub_offset("hello", false, 5, out));
  CHECK(out == "hello");
  CHECK_FALSE(ds::take_sub_offset("hello", false, 6, out));
  CHECK(ds::take_sub_offset(R"({"a":1},{"b":2},{"c":3})", true, 2, out));
  CHECK(out == R"({"a":1},{"b":2})");
  CHECK_FALSE(ds::take_sub_offset(R"({"a":1})", true, 2, out));
}

TEST_CASE("bodies are prepared for their mode", "[streams]") {
  auto bytes = ds::prepare_body(std::string("a\0b", 3), false);
  CHECK(bytes.data == std::string("a\0b", 3));
  CHECK(bytes.messages == 1);
  CHECK(ds::prepare_body("", false).messages == 0);
  auto js = ds::prepare_body("[1, 2]", true);
  CHECK(js.verdict == ds::json_body::ok);
  CHECK(js.data == "1,2");
  CHECK(js.messages == 2);
  CHECK(ds::prepare_body("", true).messages == 0);
  CHECK(ds::prepare_body("[]", true).verdict == ds::json_body::empty_array);
  CHECK(ds::prepare_body("{", true).verdict == ds::json_body::invalid);
}
