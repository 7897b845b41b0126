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

// Feeds `whole` one byte at a time: incomplete until its last byte, then complete.
void check_framed_bytewise(const std::string& whole, head_scan& scan) {
  std::string in;
  for (std::size_t i = 0; i + 1 < whole.size(); ++i) {
    in += whole[i];
    REQUIRE(ebuse::frame_request(in, scan, 1000) == frame_kind::incomplete);
  }
  CHECK(ebuse::frame_request(whole, scan, 1000) == frame_kind::complete);
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
  head_scan scan;
  const std::string whole = "POST /events HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd";
  check_framed_bytewise(whole, scan);
  CHECK(ebuse::request_end(scan) == whole.size());
}

TEST_CASE("a Content-Length body is waited for", "[framer]") {
  CHECK(frame("POST / HTTP/1.1\r\ncontent-length: 3\r\n\r\nab") == frame_kind::incomplete);
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length:  3 \r\n\r\nabc") == frame_kind::complete);
  // Pipelined bytes after the body do not matter.
  CHECK(frame("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /") == frame_kind::complete);
}

TEST_CASE("what the loop does not frame goes to a worker", "[framer]") {
  CHECK(frame("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
              "\r\n")
        == frame_kind::takeover);
  // A length and a coding: ambiguous framing, judged by the library's rules.
  CHECK(frame("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")
        == frame_kind::takeover);
  // Other expectations, or more than one: the library's rules decide.
  CHECK(frame("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc")
        == frame_kind::takeover);
  CHECK(frame("POST / HTTP/1.1\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n"
              "Content-Length: 3\r\n\r\nabc")
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

namespace {

const std::string chunked_head = "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n";

} // namespace

TEST_CASE("a chunked body is framed to its last chunk", "[framer]") {
  CHECK(frame(chunked_head) == frame_kind::incomplete);
  CHECK(frame(chunked_head + "3\r\nabc\r\n") == frame_kind::incomplete);
  CHECK(frame(chunked_head + "3\r\nabc\r\n0\r\n") == frame_kind::incomplete);
  CHECK(frame(chunked_head + "3\r\nabc\r\n0\r\n\r\n") == frame_kind::complete);
  CHECK(frame(chunked_head + "0\r\n\r\n") == frame_kind::complete);
  // Extensions, upper-case hex digits, leading zeros; pipelined bytes do not matter.
  CHECK(frame(chunked_head + "A;x=1\r\n0123456789\r\n000\r\n\r\nGET /") == frame_kind::complete);
}

TEST_CASE("a chunked body is scanned as its bytes arrive", "[framer]") {
  const std::string whole = chunked_head + "4\r\nabcd\r\n2;e\r\nef\r\n0\r\n\r\n";
  head_scan scan;
  check_framed_bytewise(whole, scan);
  CHECK(scan.decoded == 6);
  CHECK(ebuse::request_end(scan) == whole.size());
  // Asked again (the worker's pass frames the same bytes), still whole.
  CHECK(ebuse::frame_request(whole, scan, 1000) == frame_kind::complete);
}

TEST_CASE("chunks the loop does not frame exactly go to a worker", "[framer]") {
  for (const char* body : {"x\r\n", "0x3\r\nabc\r\n0\r\n\r\n", "3\nabc\r\n",
                           "3\r\nabcX\r\n", "0\r\nTrailer: 1\r\n\r\n",
                           "-3\r\nabc\r\n", " 3\r\nabc\r\n", "3 \r\nabc\r\n",
                           "1234567890123456\r\n"})
    CHECK(frame(chunked_head + body) == frame_kind::takeover);
  // A route that reads its body as it arrives (an import) gets the chunks as they come.
  CHECK(frame("POST /events/import HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        == frame_kind::takeover);
  CHECK(frame("POST //events/import?x=1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        == frame_kind::takeover);
  CHECK(frame("POST /events/batch HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        == frame_kind::incomplete);
  // A size line that never ends.
  CHECK(frame(chunked_head + std::string(2000, '0')) == frame_kind::takeover);
}

TEST_CASE("a chunked body over MAX_BODY_BYTES goes to a worker (413)", "[framer]") {
  CHECK(frame(chunked_head + "3e8\r\n", 1000) == frame_kind::incomplete);
  CHECK(frame(chunked_head + "3e9\r\n", 1000) == frame_kind::takeover);
  CHECK(frame(chunked_head + "1f4\r\n" + std::string(500, 'a') + "\r\n1f5\r\n", 1000)
        == frame_kind::takeover);
  CHECK(frame(chunked_head + "fffffffffffffff\r\n", 1000) == frame_kind::takeover);
  // Many one-byte chunks: the raw bytes are held to twice the limit (and 64 KiB).
  std::string tiny;
  for (int i = 0; i < 30000; ++i)
    tiny += "1\r\na\r\n";
  CHECK(frame(chunked_head + tiny.substr(0, 6 * 20000), 40000) == frame_kind::incomplete);
  CHECK(frame(chunked_head + tiny, 40000) == frame_kind::takeover);
}

TEST_CASE("a 100-continue head goes to a worker until its answer is sent", "[framer]") {
  const std::string head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  head_scan scan;
  // The client waits for `100 Continue`: the head is answered first.
  CHECK(ebuse::frame_request(head, scan, 1000) == frame_kind::takeover);
  CHECK(scan.expects_continue);
  // A body that came with the head anyway: the request is whole.
  CHECK(frame(head + "abc") == frame_kind::complete);
  // Once the 100 is sent, the body is framed as any other, byte by byte.
  head_scan sent;
  sent.continue_sent = true;
  check_framed_bytewise(head + "abc", sent);
  CHECK(ebuse::request_end(sent) == head.size() + 3);
  // Without a length (nothing to wait for) or chunked: a worker reads it as before.
  CHECK(frame("POST / HTTP/1.1\r\nExpect: 100-continue\r\n"
              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        == frame_kind::takeover);
  CHECK(frame("GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n") == frame_kind::takeover);
}
