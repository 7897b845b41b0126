// Unit tests for read parameters, cursors, ETags, response headers and SSE framing.
#include "streams/read.hpp"
#include "streams/response.hpp"
#include "streams/sse.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace ds = ebuse::streams;
using ds::outcome;

namespace {

ds::read_result data_read(const char* type = "text/plain") {
  ds::read_result r;
  r.result = outcome::ok;
  r.meta.id = 42;
  r.meta.content_type = type;
  r.meta.tail = {2, 10};
  r.payload = "hello";
  r.appends = 1;
  r.next = {2, 10};
  r.up_to_date = true;
  return r;
}

} // namespace

TEST_CASE("read parameters", "[streams]") {
  ds::read_params p;
  auto parse = [&](ds::read_query q) { return ds::parse_read_params(q, p); };
  CHECK(parse({}) == nullptr);
  CHECK(p.from.kind == ds::offset_kind::start);
  CHECK_FALSE(p.offset_given);
  CHECK_FALSE(p.limit);
  CHECK(parse({1, "now", "long-poll", 1, "17", 0, ""}) == nullptr);
  CHECK(p.from.kind == ds::offset_kind::now);
  CHECK(p.live == ds::live_mode::long_poll);
  CHECK(*p.cursor == "17");
  CHECK(parse({1, "-1", "sse", 0, "", 1, "25"}) == nullptr);
  CHECK(p.live == ds::live_mode::sse);
  CHECK(*p.limit == 25);
  CHECK(parse({2, "-1", "", 0, "", 0, ""}) != nullptr);           // two offsets
  CHECK(parse({1, "", "", 0, "", 0, ""}) != nullptr);             // empty offset
  CHECK(parse({1, "0,1", "", 0, "", 0, ""}) != nullptr);          // malformed
  CHECK(parse({0, "", "long-poll", 0, "", 0, ""}) != nullptr);    // live, no offset
  CHECK(parse({0, "", "sse", 0, "", 0, ""}) != nullptr);
  CHECK(parse({1, "-1", "forever", 0, "", 0, ""}) != nullptr);
  CHECK(parse({1, "-1", "", 2, "1", 0, ""}) != nullptr);          // two cursors
  for (const char* bad : {"0", "-1", "x", "10001", "01", ""})
    CHECK(parse({0, "", "", 0, "", 1, bad}) != nullptr);
  CHECK(parse({0, "", "", 0, "", 1, "10000"}) == nullptr);
}

TEST_CASE("cursors follow 20 s intervals and never repeat a client's", "[streams]") {
  const int64_t t = ds::cursor_epoch_ms + 1000 * ds::cursor_interval_ms + 5;
  CHECK(ds::response_cursor(t, std::nullopt, 0) == "1000");
  CHECK(ds::response_cursor(t, std::string{"999"}, 0) == "1000");  // behind: current
  CHECK(ds::response_cursor(t, std::string{"junk"}, 0) == "1000");
  // At or ahead of the current interval: strictly more, by 1 to 180 intervals.
  for (uint64_t r : {uint64_t{0}, uint64_t{19}, uint64_t{20}, uint64_t{3599}, uint64_t{123456}}) {
    auto c = std::stoll(ds::response_cursor(t, std::string{"1000"}, r));
    CHECK(c > 1000);
    CHECK(c <= 1180);
  }
  CHECK(ds::response_cursor(t, std::string{"1000"}, 0) == "1001");
  CHECK(ds::response_cursor(t, std::string{"5000"}, 3599) == "5180");
}

TEST_CASE("ETags vary with range and closure; If-None-Match lists match", "[streams]") {
  auto a = ds::make_etag(42, "-1", {2, 10}, false);
  CHECK(a == "\"42:-1:0000000000000002_0000000000000010\"");
  CHECK(ds::make_etag(42, "-1", {2, 10}, true) != a);
  CHECK(ds::make_etag(43, "-1", {2, 10}, false) != a);
  CHECK(ds::etag_matches(a, a));
  CHECK(ds::etag_matches("\"x\", " + a, a));
  CHECK(ds::etag_matches("W/" + a, a));
  CHECK(ds::etag_matches("*", a));
  CHECK_FALSE(ds::etag_matches("\"wrong-etag\"", a));
  CHECK_FALSE(ds::etag_matches("", a));
}

TEST_CASE("every stream response carries browser hardening and CORS", "[streams]") {
  bool nosniff = false, corp = false, origin = false;
  for (const auto& [k, v] : ds::common_headers()) {
    nosniff |= k == "X-Content-Type-Options" && v == "nosniff";
    corp |= k == "Cross-Origin-Resource-Policy" && v == "cross-origin";
    origin |= k == "Access-Control-Allow-Origin";
  }
  CHECK(nosniff);
  CHECK(corp);
  CHECK(origin);
  auto pre = ds::preflight_response();
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Headers").find("If-None-Match") != std::string::npos);
  CHECK(pre.header("Access-Control-Allow-Methods").find("DELETE") != std::string::npos);
}

TEST_CASE("write responses", "[streams]") {
  ds::write_result w;
  w.result = outcome::created;
  w.content_type = "text/plain";
  w.tail = {1, 3};
  auto r = ds::write_response(w, "http://h/v1/stream/a");
  CHECK(r.status == 201);
  CHECK(r.header("Location") == "http://h/v1/stream/a");
  CHECK(r.header("Content-Type") == "text/plain");
  CHECK(r.header("Stream-Next-Offset") == "0000000000000001_0000000000000003");
  CHECK(r.header("Stream-Closed").empty());
  w.result = outcome::exists;
  w.closed = true;
  r = ds::write_response(w, "http://h/v1/stream/a");
  CHECK(r.status == 200);
  CHECK(r.header("Location").empty());
  CHECK(r.header("Stream-Closed") == "true");
  w = {};
  w.result = outcome::appended;
  w.tail = {2, 9};
  CHECK(ds::write_response(w).status == 204);
  w.has_producer = true;
  w.producer_epoch = 1;
  w.producer_seq = 4;
  r = ds::write_response(w);
  CHECK(r.status == 200);
  CHECK(r.header("Producer-Epoch") == "1");
  CHECK(r.header("Producer-Seq") == "4");
  w = {};
  w.result = outcome::stream_closed;
  w.closed = true;
  w.tail = {3, 12};
  r = ds::write_response(w);
  CHECK(r.status == 409);
  CHECK(r.header("Stream-Closed") == "true");
  CHECK(r.header("Stream-Next-Offset") == "0000000000000003_0000000000000012");
  CHECK(r.body.find("\"code\":\"stream_closed\"") != std::string::npos);
  w = {};
  w.result = outcome::stale_epoch;
  w.has_producer = true;
  w.producer_epoch = 7;
  r = ds::write_response(w);
  CHECK(r.status == 403);
  CHECK(r.header("Producer-Epoch") == "7");
  CHECK(r.header("Producer-Seq").empty());
  w = {};
  w.result = outcome::sequence_gap;
  w.expected_seq = 1;
  w.received_seq = 2;
  r = ds::write_response(w);
  CHECK(r.status == 409);
  CHECK(r.header("Producer-Expected-Seq") == "1");
  CHECK(r.header("Producer-Received-Seq") == "2");
  CHECK(r.header("Stream-Next-Offset").empty());
  w = {};
  w.result = outcome::deleted;
  r = ds::write_response(w);
  CHECK(r.status == 204);
  CHECK(r.header("Stream-Next-Offset").empty());
  for (auto o : {outcome::not_found, outcome::gone, outcome::config_conflict,
                 outcome::invalid_json, outcome::too_many_streams, outcome::stream_too_large}) {
    w.result = o;
    r = ds::write_response(w);
    CHECK(r.status >= 400);
    CHECK(r.header("Content-Type") == "application/json");
    CHECK(r.body.find("\"code\":\"") != std::string::npos);
  }
}

TEST_CASE("read responses: data, tail, closure, 304", "[streams]") {
  auto rr = data_read();
  auto r = ds::read_response(rr, "-1", "", "");
  CHECK(r.status == 200);
  CHECK(r.body == "hello");
  CHECK(r.header("Stream-Up-To-Date") == "true");
  CHECK(r.header("Stream-Closed").empty());
  CHECK(r.header("Stream-Cursor").empty());
  CHECK(r.header("Cache-Control").find("max-age=60") != std::string::npos);
  auto etag = r.header("ETag");
  CHECK_FALSE(etag.empty());
  auto again = ds::read_response(rr, "-1", etag, "");
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  rr.meta.closed = true;
  auto closed = ds::read_response(rr, "-1", etag, "");
  CHECK(closed.status == 200); // the closure changes the tag
  CHECK(closed.header("Stream-Closed") == "true");
  rr.up_to_date = false; // a partial read of a closed stream
  CHECK(ds::read_response(rr, "-1", "", "").header("Stream-Closed").empty());
  auto live = ds::read_response(data_read(), "-1", "", "1234");
  CHECK(live.header("Stream-Cursor") == "1234");
  auto tail = data_read();
  tail.payload.clear();
  tail.appends = 0;
  CHECK(ds::read_response(tail, "-1", "", "").header("Cache-Control") == "no-store");
}

TEST_CASE("offset=now, long-poll timeouts and HEAD", "[streams]") {
  auto rr = data_read("application/json");
  auto now = ds::now_response(rr);
  CHECK(now.status == 200);
  CHECK(now.body == "[]");
  CHECK(now.header("Cache-Control") == "no-store");
  CHECK(now.header("ETag").empty());
  CHECK(ds::now_response(data_read()).body.empty());
  auto t = ds::poll_timeout_response(rr, "99");
  CHECK(t.status == 204);
  CHECK(t.header("Stream-Up-To-Date") == "true");
  CHECK(t.header("Stream-Cursor") == "99");
  rr.meta.closed = true;
  t = ds::poll_timeout_response(rr, "99");
  CHECK(t.header("Stream-Closed") == "true");
  CHECK(t.header("Stream-Cursor").empty());
  auto h = ds::head_response(rr);
  CHECK(h.status == 200);
  CHECK(h.header("Cache-Control") == "no-store");
  CHECK(h.header("Stream-Closed") == "true");
  rr.meta.exp.ttl_seconds = 3600;
  CHECK(ds::head_response(rr).header("Stream-TTL") == "3600");
  rr.result = outcome::gone;
  CHECK(ds::head_response(rr).status == 410);
}

TEST_CASE("SSE framing", "[streams]") {
  std::string out;
  ds::append_data_event("line1\nline2\r\nline3\rline4", false, out);
  CHECK(out == "event: data\ndata:line1\ndata:line2\ndata:line3\ndata:line4\n\n");
  out.clear();
  // An embedded blank line cannot end the event: it becomes an empty data line.
  ds::append_data_event("a\n\nevent: control", false, out);
  CHECK(out == "event: data\ndata:a\ndata:\ndata:event: control\n\n");
  out.clear();
  ds::append_data_event(" lead", false, out);
  CHECK(out == "event: data\ndata: lead\n\n");
  out.clear();
  ds::append_data_event("Hello", true, out);
  CHECK(out == "event: data\ndata:SGVsbG8=\n\n");
  out.clear();
  ds::append_base64(std::string("\x00\x0a\x0d\xff", 4), out);
  CHECK(out == "AAoN/w==");
  out.clear();
  ds::append_base64("ab", out);
  CHECK(out == "YWI=");
  out.clear();
  ds::append_control_event({1, 2}, "55", true, false, out);
  CHECK(out == "event: control\ndata:{\"streamNextOffset\":\"0000000000000001_0000000000000002\","
               "\"streamCursor\":\"55\",\"upToDate\":true}\n\n");
  out.clear();
  ds::append_control_event({1, 2}, "55", true, true, out);
  CHECK(out.find("streamCursor") == std::string::npos);
  CHECK(out.find("\"streamClosed\":true") != std::string::npos);
  auto head = ds::sse_head(data_read("application/octet-stream"));
  CHECK(head.header("Content-Type") == "text/event-stream");
  CHECK(head.header("Stream-SSE-Data-Encoding") == "base64");
  CHECK(ds::sse_head(data_read("text/plain")).header("Stream-SSE-Data-Encoding").empty());
}
