// Unit tests for request framing in the event loop: head end, limits, Content-Length,
// and what is left to a worker.
#include <catch2/catch.hpp>

#include <string>

#include "http/request_framer.hpp"
#include "http/socket_stream.hpp"

using ebuse::frame_kind;
using ebuse::head_scan;

namespace {

frame_kind frame(const std::string& in, std::size_t max_body = 1000) {
  head_scan scan;
  return ebuse::frame_request(in, scan, max_body);
}

} // namespace

TEST_CASE("a head is whole at its blank line", "[framer]") {
  CHECK(frame("GET / HTTP/1.1\r\nHost: x\r\n") == frame_kind::incomplete);
  CHECK(frame("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == frame_kind::complete);
  CHECK(frame("GET / HTTP/1.1\nHost: x\n\n") == frame_kind::complete);
  // An empty request line is the parser's to reject.
  CHECK(frame("\r\n") == frame_kind::complete);
}

TEST_CASE("scanning resumes where it stopped as bytes arrive", "[framer]") {
  const std::string whole = "POST /events HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd";
  head_scan scan;
  std::string in;
  for (std::size_t i = 0; i + 1 < whole.size(); ++i) {
    in += whole[i];
    REQUIRE(ebuse::frame_request(in, scan, 1000) == frame_kind::incomplete);
  }
  in += whole.back();
  CHECK(ebuse::frame_request(in, scan, 1000) == frame_kind::complete);
}

TEST_CASE("a Content-Length body is waited for", "[framer]") {
  CHECK(frame("POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\nab") == frame_kind::incomplete);
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length:  3 \r\n\r\nabc") == frame_kind::complete);
  // Pipelined bytes after the body do not matter.
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /") == frame_kind::complete);
}

TEST_CASE("what the loop does not frame goes to a worker", "[framer]") {
  CHECK(frame("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n")
        == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n") == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == frame_kind::takeover);
  // Over MAX_BODY_BYTES: refused before the body is read.
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n") == frame_kind::takeover);
}

TEST_CASE("a line or head over its limit goes to a worker (431)", "[framer]") {
  std::string long_line = "GET / HTTP/1.1\r\nX-A: " + std::string(ebuse::max_line_bytes + 10, 'a');
  CHECK(frame(long_line) == frame_kind::takeover);
  std::string many = "GET / HTTP/1.1\r\n";
  while (many.size() <= ebuse::max_header_bytes)
    many += "X-A: " + std::string(100, 'a') + "\r\n";
  CHECK(frame(many) == frame_kind::takeover);
  CHECK(frame("GET / HTTP/1.1\r\nX-A: " + std::string(100, 'a')) == frame_kind::incomplete);
}
