// Unit tests for create headers, expiry arithmetic, idempotent matching and producers.
#include "streams/producer.hpp"
#include "streams/stream_config.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace ds = ebuse::streams;

TEST_CASE("Stream-TTL is canonical decimal within bounds", "[streams]") {
  int64_t s = -1;
  CHECK(ds::parse_ttl("0", s));
  CHECK(s == 0);
  CHECK(ds::parse_ttl("3600", s));
  CHECK(s == 3600);
  CHECK(ds::parse_ttl(std::to_string(ds::max_ttl_seconds), s));
  for (const char* bad : {"", "-1", "+60", "00060", "060", "60.5", "1e3", "abc", " 60",
                          "60 ", "315360001", "99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(ds::parse_ttl(bad, s));
  }
}

TEST_CASE("Stream-Expires-At is RFC 3339 in any offset", "[streams]") {
  int64_t ms = 0;
  REQUIRE(ds::parse_expires_at("2024-10-09T00:00:00Z", ms));
  CHECK(ms == 1728432000000);
  REQUIRE(ds::parse_expires_at("2024-10-09T02:00:00.250+02:00", ms));
  CHECK(ms == 1728432000250);
  REQUIRE(ds::parse_expires_at("1970-01-01T00:00:00.0009Z", ms));
  CHECK(ms == 0);
  for (const char* bad : {"not-a-timestamp", "2024-10-09", "2024-13-01T00:00:00Z",
                          "2024-10-09T00:00:00", "2024-02-30T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(ds::parse_expires_at(bad, ms));
  }
  CHECK(ds::format_expires_at(1728432000250) == "2024-10-09T00:00:00.250Z");
  CHECK(ds::format_expires_at(0) == "1970-01-01T00:00:00.000Z");
  REQUIRE(ds::parse_expires_at(ds::format_expires_at(4102444800123), ms));
  CHECK(ms == 4102444800123);
}

TEST_CASE("flags are true only for the value true", "[streams]") {
  CHECK(ds::header_is_true("true"));
  CHECK(ds::header_is_true("TRUE"));
  CHECK(ds::header_is_true("True"));
  for (const char* no : {"", "false", "yes", "1", "true ", "truee"})
    CHECK_FALSE(ds::header_is_true(no));
}

TEST_CASE("sub-offsets are canonical non-negative integers", "[streams]") {
  int64_t v = -1;
  CHECK(ds::parse_sub_offset("0", v));
  CHECK(v == 0);
  CHECK(ds::parse_sub_offset("12", v));
  CHECK(v == 12);
  for (const char* bad : {"-1", "abc", "1.5", "05", "+1", ""})
    CHECK_FALSE(ds::parse_sub_offset(bad, v));
}

TEST_CASE("stream paths are checked", "[streams]") {
  CHECK(ds::invalid_path_reason("a") == nullptr);
  CHECK(ds::invalid_path_reason("orders/2024/été") == nullptr);
  CHECK(ds::invalid_path_reason("a.b/..c") == nullptr);
  for (const char* bad : {"", "/a", "a/", "a//b", "a/./b", "../a", "a/..", "__ds",
                          "__ds/subscriptions/x", "a\nb", "a\x7f", "\xff"}) {
    INFO(bad);
    CHECK(ds::invalid_path_reason(bad) != nullptr);
  }
  CHECK(ds::invalid_path_reason("x/__ds") == nullptr);
  CHECK(ds::invalid_path_reason(std::string(1025, 'a')) != nullptr);
}

TEST_CASE("expiry: sliding TTL from the last access, or a fixed deadline", "[streams]") {
  ds::expiry none;
  CHECK_FALSE(ds::expiry_time(none, 1000));
  CHECK_FALSE(ds::is_expired(none, 0, INT64_MAX / 2));
  ds::expiry ttl;
  ttl.ttl_seconds = 2;
  CHECK(*ds::expiry_time(ttl, 1000) == 3000);
  CHECK_FALSE(ds::is_expired(ttl, 1000, 2999));
  CHECK(ds::is_expired(ttl, 1000, 3000));
  ds::expiry at;
  at.expires_at_ms = 5000;
  CHECK(*ds::expiry_time(at, 1000) == 5000);
  CHECK(*ds::expiry_time(at, 9000) == 5000); // access does not move a deadline
  CHECK(ds::is_expired(at, 9000, 5000));
}

TEST_CASE("forks inherit the source's expiry unless they ask for their own", "[streams]") {
  ds::expiry src_ttl;
  src_ttl.ttl_seconds = 3600;
  ds::expiry src_at;
  src_at.expires_at_ms = 10;
  ds::expiry req_ttl;
  req_ttl.ttl_seconds = 60;
  ds::expiry req_at;
  req_at.expires_at_ms = 99;
  ds::expiry none;
  CHECK_FALSE(ds::fork_expiry(none, none).ttl_seconds);
  CHECK(*ds::fork_expiry(req_ttl, none).ttl_seconds == 60);
  CHECK(*ds::fork_expiry(req_at, none).expires_at_ms == 99);
  CHECK(*ds::fork_expiry(none, src_ttl).ttl_seconds == 3600);
  CHECK(*ds::fork_expiry(req_ttl, src_ttl).ttl_seconds == 60);
  CHECK(*ds::fork_expiry(req_at, src_ttl).expires_at_ms == 99);
  CHECK_FALSE(ds::fork_expiry(req_at, src_ttl).ttl_seconds);
  CHECK(*ds::fork_expiry(none, src_at).expires_at_ms == 10);
  CHECK(*ds::fork_expiry(req_ttl, src_at).ttl_seconds == 60);
  CHECK(*ds::fork_expiry(req_at, src_at).expires_at_ms == 99);
}

TEST_CASE("an identical create matches; any difference conflicts", "[streams]") {
  ds::stream_meta s;
  s.content_type = "text/plain";
  s.exp.ttl_seconds = 3600;
  ds::create_request r;
  r.content_type = "TEXT/PLAIN; charset=utf-8";
  r.exp.ttl_seconds = 3600;
  CHECK(ds::create_matches(s, r, r.exp));
  auto other = r;
  other.content_type = "application/json";
  CHECK_FALSE(ds::create_matches(s, other, other.exp));
  other = r;
  other.exp.ttl_seconds = 7200;
  CHECK_FALSE(ds::create_matches(s, other, other.exp));
  other = r;
  other.closed = true;
  CHECK_FALSE(ds::create_matches(s, other, other.exp)); // closure status must match
  other = r;
  other.content_type.clear(); // no type: the default, which this stream does not have
  CHECK_FALSE(ds::create_matches(s, other, other.exp));
  other.fork = ds::fork_request{"src", std::nullopt, 0};
  CHECK_FALSE(ds::create_matches(s, other, other.exp)); // not a fork
  s.fork_source = 7;
  s.fork_source_path = "src";
  s.fork_offset = {1, 5};
  CHECK(ds::create_matches(s, other, other.exp)); // a fork inherits the type
  other.fork->at = ds::offset{1, 5};
  CHECK(ds::create_matches(s, other, other.exp));
  other.fork->at = ds::offset{0, 0};
  CHECK_FALSE(ds::create_matches(s, other, other.exp));
  other.fork->at.reset();
  other.fork->sub_offset = 2;
  CHECK_FALSE(ds::create_matches(s, other, other.exp));
  other.fork->sub_offset = 0;
  other.fork->source_path = "elsewhere";
  CHECK_FALSE(ds::create_matches(s, other, other.exp));
}

TEST_CASE("producer headers come all together and are strict integers", "[streams]") {
  std::optional<ds::producer_request> out;
  std::string_view id = "p1", zero = "0", five = "5";
  CHECK(ds::parse_producer(nullptr, nullptr, nullptr, out) == ds::producer_header_error::none);
  CHECK_FALSE(out);
  CHECK(ds::parse_producer(&id, &zero, &five, out) == ds::producer_header_error::none);
  REQUIRE(out);
  CHECK(out->id == "p1");
  CHECK(out->seq == 5);
  CHECK(ds::parse_producer(&id, nullptr, nullptr, out) == ds::producer_header_error::partial);
  CHECK(ds::parse_producer(nullptr, &zero, nullptr, out) == ds::producer_header_error::partial);
  CHECK(ds::parse_producer(&id, &zero, nullptr, out) == ds::producer_header_error::partial);
  std::string_view empty = "";
  CHECK(ds::parse_producer(&empty, &zero, &zero, out) == ds::producer_header_error::empty_id);
  for (std::string_view bad : {"1abc", "0xyz", "1e3", "-1", "", " 1", "9007199254740992"}) {
    INFO(bad);
    CHECK(ds::parse_producer(&id, &bad, &zero, out) == ds::producer_header_error::bad_epoch);
    CHECK(ds::parse_producer(&id, &zero, &bad, out) == ds::producer_header_error::bad_seq);
  }
  std::string_view max = "9007199254740991";
  CHECK(ds::parse_producer(&id, &max, &max, out) == ds::producer_header_error::none);
  std::string long_id(257, 'x');
  std::string_view lid = long_id;
  CHECK(ds::parse_producer(&lid, &zero, &zero, out) == ds::producer_header_error::long_id);
}

TEST_CASE("the producer state machine", "[streams]") {
  using v = ds::producer_verdict;
  // A new producer starts at seq 0 in any epoch.
  auto c = ds::check_producer(std::nullopt, 0, 0);
  CHECK(c.verdict == v::accept);
  CHECK(c.next.epoch == 0);
  c = ds::check_producer(std::nullopt, 3, 0);
  CHECK(c.verdict == v::accept);
  CHECK(c.next.epoch == 3);
  c = ds::check_producer(std::nullopt, 0, 2);
  CHECK(c.verdict == v::sequence_gap);
  CHECK(c.expected_seq == 0);
  ds::producer_state st{1, 4};
  c = ds::check_producer(st, 1, 5);
  CHECK(c.verdict == v::accept);
  CHECK(c.next.last_seq == 5);
  c = ds::check_producer(st, 1, 4);
  CHECK(c.verdict == v::duplicate);
  CHECK(c.last_seq == 4);
  c = ds::check_producer(st, 1, 0);
  CHECK(c.verdict == v::duplicate);
  CHECK(c.last_seq == 4); // the highest accepted, not the request's
  c = ds::check_producer(st, 1, 7);
  CHECK(c.verdict == v::sequence_gap);
  CHECK(c.expected_seq == 5);
  c = ds::check_producer(st, 0, 9);
  CHECK(c.verdict == v::stale_epoch);
  CHECK(c.current_epoch == 1);
  c = ds::check_producer(st, 2, 0);
  CHECK(c.verdict == v::accept);
  CHECK(c.next.epoch == 2);
  CHECK(c.next.last_seq == 0);
  c = ds::check_producer(st, 2, 1);
  CHECK(c.verdict == v::new_epoch_bad_seq);
}
