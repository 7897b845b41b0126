// The HTTP codec: event and batch bodies, subscription bodies and ids, query parameters.
#include <catch2/catch.hpp>

#include "core/errc.hpp"
#include "http/codec.hpp"
#include "http/errors.hpp"

using namespace ebuse;

namespace {

errc parse_error(std::string_view body) {
  auto ev = parse_event(body);
  return ev ? errc::none : code_of(ev.error());
}

} // namespace

TEST_CASE("an event body becomes a stored event") {
  auto ev = parse_event(
    R"( { "type" : "user.created", "data" : { "b" : 1.10, "a" : [ 1E+2 , "x y" ] },)"
    R"( "timestamp":"2024-05-06T07:08:09.120+02:00", "position": 99, "extra": {"k":1} } )");
  REQUIRE(ev);
  CHECK(ev->type == "user.created");
  CHECK(ev->data == R"({"b":1.10,"a":[1E+2,"x y"]})");
  CHECK(ev->timestamp == "2024-05-06 07:08:09.12+02:00");
  CHECK(render_saved_event(*ev, 7)
        == R"({"position":7,"type":"user.created","data":{"b":1.10,"a":[1E+2,"x y"]},)"
           R"("timestamp":"2024-05-06T07:08:09.12+02:00"})"
           "\n");
}

TEST_CASE("event keys match case-insensitively and the last repeated key wins") {
  auto ev = parse_event(R"({"TYPE":"a","Data":1,"type":"b"})");
  REQUIRE(ev);
  CHECK(ev->type == "b");
  CHECK(ev->data == "1");
}

TEST_CASE("an omitted or null timestamp is the time of the append") {
  for (auto body : {R"({"type":"a","data":null})", R"({"type":"a","data":0,"timestamp":null})"}) {
    auto ev = parse_event(body);
    REQUIRE(ev);
    CHECK(ev->timestamp.size() >= 25);
    CHECK(ev->timestamp.substr(0, 2) == "20");
    CHECK(ev->timestamp.substr(ev->timestamp.size() - 6) == "+00:00");
  }
  auto ev = parse_event(R"({"type":"a","data":null})");
  REQUIRE(ev);
  CHECK(ev->data == "null");
}

TEST_CASE("type escapes and unicode are decoded and re-encoded as Go does") {
  auto ev = parse_event(R"({"type":"caf\u00e9 <b>\n","data":"\u2028"})");
  REQUIRE(ev);
  CHECK(ev->type == "caf\xC3\xA9 <b>\n");
  CHECK(ev->data == R"("\u2028")");
  auto out = render_saved_event(*ev, 1);
  CHECK(out.find(R"("type":"café \u003cb\u003e\n")") != std::string::npos);
}

TEST_CASE("bad event bodies are rejected with the right code") {
  CHECK(parse_error("") == errc::invalid_json);
  CHECK(parse_error("   ") == errc::invalid_json);
  CHECK(parse_error("{") == errc::invalid_json);
  CHECK(parse_error(R"({"type":"a","data":})") == errc::invalid_json);
  CHECK(parse_error(R"({"type":"a","data":1} x)") == errc::invalid_json);
  CHECK(parse_error(R"({"type":"a","data":01})") == errc::invalid_json);
  CHECK(parse_error("{\"type\":\"a\xff\",\"data\":1}") == errc::invalid_json);
  CHECK(parse_error(R"([1])") == errc::invalid_event);
  CHECK(parse_error(R"("x")") == errc::invalid_event);
  CHECK(parse_error(R"({"data":1})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":"","data":1})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":null,"data":1})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":5,"data":1})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":"a"})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":"a","data":1,"timestamp":"yesterday"})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":"a","data":1,"timestamp":17})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":"a","data":1,"timestamp":"2024-02-30T00:00:00Z"})")
        == errc::invalid_event);
  CHECK(parse_error(R"({"type":"a","data":1,"position":"7"})") == errc::invalid_event);
  CHECK(parse_error(R"({"type":"a","data":1,"position":1.5})") == errc::invalid_event);
  CHECK(http_status(errc::invalid_json) == 400);
  CHECK(http_status(errc::invalid_event) == 400);
}

TEST_CASE("batches hold 1..1000 events and fail whole on one bad event") {
  std::string body = "[";
  for (int i = 0; i < 1000; ++i)
    body += std::string{i ? "," : ""} + R"({"type":"t","data":)" + std::to_string(i) + "}";
  auto ok = parse_batch(body + "]");
  REQUIRE(ok);
  CHECK(ok->size() == 1000);
  CHECK(ok->back().data == "999");
  auto too_many = parse_batch(body + R"(,{"type":"t","data":1}])");
  REQUIRE_FALSE(too_many);
  CHECK(code_of(too_many.error()) == errc::invalid_batch);
  auto empty = parse_batch(" [ ] ");
  REQUIRE_FALSE(empty);
  CHECK(code_of(empty.error()) == errc::invalid_batch);
  auto object = parse_batch(R"({"type":"t","data":1})");
  REQUIRE_FALSE(object);
  CHECK(code_of(object.error()) == errc::invalid_batch);
  auto bad = parse_batch(R"([{"type":"t","data":1},{"type":"t"}])");
  REQUIRE_FALSE(bad);
  CHECK(code_of(bad.error()) == errc::invalid_event);
  CHECK(message_of(bad.error()).find("event 1") != std::string::npos);
  auto null_elem = parse_batch(R"([null])");
  REQUIRE_FALSE(null_elem);
  CHECK(code_of(null_elem.error()) == errc::invalid_event);
  CHECK(render_batch_reply(3, 1, 3) == "{\"first_position\":1,\"last_position\":3,\"saved\":3}\n");
}

TEST_CASE("subscription bodies and ids") {
  CHECK(*parse_position_body(R"({"position":42})") == 42);
  CHECK(*parse_position_body(R"({"Position":0})") == 0);
  for (auto bad : {"", "{}", R"({"position":-1})", R"({"position":1.5})",
                   R"({"position":"3"})", R"({"position":null})", "[1]", "{"}) {
    INFO(bad);
    auto res = parse_position_body(bad);
    REQUIRE_FALSE(res);
    CHECK(http_status(code_of(res.error())) == 400);
  }
  CHECK_FALSE(check_subscription_id("projector-1"));
  CHECK_FALSE(check_subscription_id("\xC3\xA9t\xC3\xA9"));
  CHECK_FALSE(check_subscription_id(std::string(256, 'a')));
  CHECK_FALSE(check_subscription_id(std::string(257, 'a')));
  CHECK_FALSE(check_subscription_id(std::string(max_subscription_id_bytes, 'a')));
  for (std::string bad : {std::string{}, std::string(max_subscription_id_bytes + 1, 'a'),
                          std::string{"."},
                          std::string{".."}, std::string{"a/b"}, std::string{"a\x01"},
                          std::string{"a\x7f"}, std::string{"\xff"}}) {
    auto err = check_subscription_id(bad);
    CHECK(code_of(err) == errc::invalid_subscription);
  }
  CHECK(render_position(0) == "{\"position\":0}\n");
}

TEST_CASE("query parameters follow Go's integer syntax") {
  CHECK(*parse_position_param("from", "0", false) == 0);
  CHECK(*parse_position_param("from", "+12", false) == 12);
  CHECK(*parse_position_param("to", "-1", true) == -1);
  CHECK(*parse_position_param("to", "9223372036854775807", true) == INT64_MAX);
  for (auto bad : {"", "abc", "-1", "1.5", " 1", "9223372036854775808", "1e3"})
    CHECK_FALSE(parse_position_param("from", bad, false));
  CHECK_FALSE(parse_position_param("to", "-2", true));
  CHECK(stream_batch_size("7") == 7);
  CHECK(stream_batch_size("5000") == 5000);
  for (auto other : {"", "0", "5001", "abc", "-5"})
    CHECK(stream_batch_size(other) == 1000);
}

TEST_CASE("integer edges: the int64 range and one past it") {
  CHECK(*parse_position_param("from", "9223372036854775807", false) == INT64_MAX);
  CHECK(*parse_position_param("from", "+9223372036854775807", false) == INT64_MAX);
  CHECK(*parse_position_param("from", "-0", false) == 0);
  for (auto bad : {"9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                   "18446744073709551616", "99999999999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(parse_position_param("from", bad, false));
    CHECK_FALSE(parse_position_param("to", bad, true));
  }
  for (auto other : {"9223372036854775807", "-9223372036854775808", "9223372036854775808",
                     "4294967297", "-1"})
    CHECK(stream_batch_size(other) == 1000);
  CHECK(*parse_position_body(R"({"position":9223372036854775807})") == INT64_MAX);
  for (auto bad : {R"({"position":9223372036854775808})", R"({"position":-9223372036854775808})",
                   R"({"position":1e3})"}) {
    INFO(bad);
    CHECK_FALSE(parse_position_body(bad));
  }
  for (auto pos : {"9223372036854775807", "-9223372036854775808", "0"}) {
    INFO(pos);
    CHECK(parse_event(std::string{R"({"type":"a","data":1,"position":)"} + pos + "}"));
  }
  CHECK(parse_error(R"({"type":"a","data":1,"position":9223372036854775808})")
        == errc::invalid_event);
  CHECK(render_position(INT64_MAX) == "{\"position\":9223372036854775807}\n");
  CHECK(render_position(INT64_MIN) == "{\"position\":-9223372036854775808}\n");
  CHECK(render_batch_reply(1000, INT64_MAX - 999, INT64_MAX)
        == "{\"first_position\":9223372036854774808,\"last_position\":9223372036854775807,"
           "\"saved\":1000}\n");
  new_event ev{"a", "1", "2024-01-01 00:00:00+00:00"};
  CHECK(render_saved_event(ev, INT64_MAX).rfind("{\"position\":9223372036854775807,", 0) == 0);
}
