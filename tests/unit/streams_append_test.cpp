// Unit tests for the append decision: precedence, closure, producers, Stream-Seq, limits.
#include "streams/append.hpp"
#include "streams/content_type.hpp"

#include <catch2/catch.hpp>

namespace ds = ebuse::streams;
using ds::outcome;

namespace {

constexpr int64_t no_limit = INT64_MAX / 2;

ds::stream_meta open_stream(const char* type = "text/plain") {
  ds::stream_meta s;
  s.id = 1;
  s.content_type = type;
  s.tail = {1, 5};
  return s;
}

ds::append_request post(std::string body, const char* type = "text/plain") {
  ds::append_request r;
  r.content_type = type;
  bool json = ds::is_json(type);
  r.body = ds::prepare_body(std::move(body), json);
  return r;
}

ds::append_request with_producer(ds::append_request r, int64_t epoch, int64_t seq,
                                 const char* id = "p") {
  r.producer = ds::producer_request{id, epoch, seq};
  return r;
}

} // namespace

TEST_CASE("a plain append is written and answered 204", "[streams]") {
  auto d = ds::decide_append(open_stream(), std::nullopt, post("hi"), no_limit);
  CHECK(d.result == outcome::appended);
  CHECK(d.write_data);
  CHECK_FALSE(d.close);
  CHECK_FALSE(d.has_producer);
}

TEST_CASE("bad appends are refused before anything is written", "[streams]") {
  auto s = open_stream();
  CHECK(ds::decide_append(s, std::nullopt, post(""), no_limit).result == outcome::empty_body);
  CHECK(ds::decide_append(s, std::nullopt, post("x", ""), no_limit).result
        == outcome::missing_content_type);
  CHECK(ds::decide_append(s, std::nullopt, post("x", "garbage"), no_limit).result
        == outcome::missing_content_type);
  CHECK(ds::decide_append(s, std::nullopt, post("{}", "application/json"), no_limit).result
        == outcome::content_type_mismatch);
  CHECK(ds::decide_append(s, std::nullopt, post("x", "TEXT/PLAIN"), no_limit).result
        == outcome::appended);
  auto js = open_stream("application/json");
  CHECK(ds::decide_append(js, std::nullopt, post("{ invalid json }", "application/json"),
                          no_limit)
          .result
        == outcome::invalid_json);
  CHECK(ds::decide_append(js, std::nullopt, post("[]", "application/json"), no_limit).result
        == outcome::empty_json_array);
  CHECK(ds::decide_append(s, std::nullopt, post("123456"), 10).result
        == outcome::stream_too_large);
  CHECK(ds::decide_append(s, std::nullopt, post("12345"), 10).result == outcome::appended);
}

TEST_CASE("closing: close-only is idempotent, append-and-close is not", "[streams]") {
  auto s = open_stream();
  auto close = post("", "");
  close.close = true;
  auto d = ds::decide_append(s, std::nullopt, close, no_limit);
  CHECK(d.result == outcome::closed);
  CHECK(d.close);
  CHECK_FALSE(d.write_data);
  // Close-only ignores a mismatched Content-Type.
  auto close_ct = post("", "application/json");
  close_ct.close = true;
  CHECK(ds::decide_append(s, std::nullopt, close_ct, no_limit).result == outcome::closed);
  s.closed = true;
  d = ds::decide_append(s, std::nullopt, close, no_limit);
  CHECK(d.result == outcome::closed);
  CHECK_FALSE(d.close); // nothing to write
  auto final_append = post("last");
  final_append.close = true;
  CHECK(ds::decide_append(s, std::nullopt, final_append, no_limit).result
        == outcome::stream_closed);
  CHECK(ds::decide_append(s, std::nullopt, post("more"), no_limit).result
        == outcome::stream_closed);
  // A closed stream is reported before a content-type mismatch.
  CHECK(ds::decide_append(s, std::nullopt, post("{}", "application/json"), no_limit).result
        == outcome::stream_closed);
  auto open = open_stream();
  d = ds::decide_append(open, std::nullopt, final_append, no_limit);
  CHECK(d.result == outcome::appended);
  CHECK(d.write_data);
  CHECK(d.close);
}

TEST_CASE("producers: accept, retry, fencing, gaps", "[streams]") {
  auto s = open_stream();
  auto d = ds::decide_append(s, std::nullopt, with_producer(post("a"), 0, 0), no_limit);
  CHECK(d.result == outcome::appended);
  CHECK(d.store_producer);
  CHECK(d.has_producer);
  CHECK(d.producer_epoch == 0);
  CHECK(d.producer_seq == 0);
  ds::producer_state st{0, 2};
  d = ds::decide_append(s, st, with_producer(post("a"), 0, 1), no_limit);
  CHECK(d.result == outcome::duplicate);
  CHECK(d.producer_seq == 2);
  CHECK_FALSE(d.write_data);
  d = ds::decide_append(s, st, with_producer(post("a"), 0, 5), no_limit);
  CHECK(d.result == outcome::sequence_gap);
  CHECK(d.expected_seq == 3);
  CHECK(d.received_seq == 5);
  st = {2, 0};
  d = ds::decide_append(s, st, with_producer(post("a"), 1, 0), no_limit);
  CHECK(d.result == outcome::stale_epoch);
  CHECK(d.producer_epoch == 2);
  CHECK(ds::decide_append(s, st, with_producer(post("a"), 3, 1), no_limit).result
        == outcome::new_epoch_bad_seq);
}

TEST_CASE("a producer retry is a duplicate before Stream-Seq is checked", "[streams]") {
  auto s = open_stream();
  s.stream_seq = "app-seq-001";
  auto retry = with_producer(post("msg"), 0, 0);
  retry.stream_seq = "app-seq-001";
  ds::producer_state st{0, 0};
  CHECK(ds::decide_append(s, st, retry, no_limit).result == outcome::duplicate);
  auto plain = post("msg");
  plain.stream_seq = "app-seq-001";
  CHECK(ds::decide_append(s, std::nullopt, plain, no_limit).result
        == outcome::stream_seq_conflict);
}

TEST_CASE("Stream-Seq is strictly increasing in byte order", "[streams]") {
  auto s = open_stream();
  auto req = post("x");
  req.stream_seq = "2";
  auto d = ds::decide_append(s, std::nullopt, req, no_limit);
  CHECK(d.result == outcome::appended);
  CHECK(d.store_stream_seq);
  s.stream_seq = "2";
  req.stream_seq = "10"; // "10" < "2" byte-wise
  CHECK(ds::decide_append(s, std::nullopt, req, no_limit).result
        == outcome::stream_seq_conflict);
  s.stream_seq = "09";
  CHECK(ds::decide_append(s, std::nullopt, req, no_limit).result == outcome::appended);
  s.stream_seq = "a";
  req.stream_seq = "B"; // upper case sorts before lower case
  CHECK(ds::decide_append(s, std::nullopt, req, no_limit).result
        == outcome::stream_seq_conflict);
  s.stream_seq = std::string("\x7f");
  req.stream_seq = std::string("\x80"); // bytes compare unsigned
  CHECK(ds::decide_append(s, std::nullopt, req, no_limit).result == outcome::appended);
}

TEST_CASE("producers and closure", "[streams]") {
  auto s = open_stream();
  auto close_only = with_producer(post("", ""), 0, 1);
  close_only.close = true;
  ds::producer_state st{0, 0};
  auto d = ds::decide_append(s, st, close_only, no_limit);
  CHECK(d.result == outcome::closed);
  CHECK(d.close);
  CHECK(d.store_producer);
  CHECK(d.producer_seq == 1);
  // The stream is now closed by (p, 0, 1): the same tuple is a duplicate, others 409.
  s.closed = true;
  s.closed_by = ds::producer_request{"p", 0, 1};
  CHECK(ds::decide_append(s, ds::producer_state{0, 1}, close_only, no_limit).result
        == outcome::duplicate);
  auto other = with_producer(post("", ""), 0, 2);
  other.close = true;
  CHECK(ds::decide_append(s, ds::producer_state{0, 1}, other, no_limit).result
        == outcome::stream_closed);
  auto with_body = with_producer(post("final"), 0, 1);
  with_body.close = true;
  d = ds::decide_append(s, ds::producer_state{0, 1}, with_body, no_limit);
  CHECK(d.result == outcome::duplicate);
  CHECK(d.producer_seq == 1);
  auto other_producer = with_producer(post("x"), 0, 1, "q");
  CHECK(ds::decide_append(s, std::nullopt, other_producer, no_limit).result
        == outcome::stream_closed);
}
