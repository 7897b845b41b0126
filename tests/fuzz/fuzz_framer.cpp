// Fuzzes the event loop's request framing: the bytes of a connection arriving in any
// pieces are framed as when they arrive at once, and a whole chunked body never claims
// more bytes than are buffered or more than MAX_BODY_BYTES.
#include "fuzz_check.hpp"
#include "http/request_framer.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  // The first byte picks the size of the pieces, the second the body limit.
  const std::size_t piece = 1 + data[0] % 64;
  const std::size_t max_body = 16u * (1 + data[1]);
  auto in = fuzz::as_text(data + 2, size - 2);

  head_scan whole;
  auto at_once = frame_request(in, whole, max_body);
  FUZZ_CHECK(frame_request(in, whole, max_body) == at_once); // asking again is the same
  if (at_once == frame_kind::complete && whole.chunked) {
    FUZZ_CHECK(whole.chunk_pos <= in.size());
    FUZZ_CHECK(whole.decoded <= max_body);
  }

  // The same bytes in pieces: the first answer that is not `incomplete` is the same.
  head_scan scan;
  auto got = frame_kind::incomplete;
  for (std::size_t n = std::min(piece, in.size());; n = std::min(n + piece, in.size())) {
    got = frame_request(in.substr(0, n), scan, max_body);
    if (got != frame_kind::incomplete || n == in.size())
      break;
  }
  // A prefix may already be over a limit the whole input is over too, or whole.
  if (got == frame_kind::complete)
    FUZZ_CHECK(at_once == frame_kind::complete);
  if (at_once == frame_kind::incomplete)
    FUZZ_CHECK(got == frame_kind::incomplete);
  return 0;
}
