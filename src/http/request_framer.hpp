// Finds where a request in a connection's input ends, without a thread: the event loop
// hands a request to a worker only once every byte of it is buffered.
#pragma once

#include <cstddef>
#include <string_view>

namespace ebuse {

/// What the buffered bytes of a connection hold.
enum class frame_kind {
  incomplete, ///< more bytes are needed
  complete,   ///< a whole request (head and Content-Length or chunked body) is buffered
  takeover,   ///< a worker must read the rest itself, or answer the head first (a
              ///< 100-continue whose body is not here yet, a head over the limits,
              ///< a body over MAX_BODY_BYTES, ambiguous framing, chunks the loop does not
              ///< frame exactly as the library's parser would)
};

/// Where the scan of a chunked body is.
enum class chunk_step : unsigned char { size_line, data, data_end, last_end, done };

/// Incremental scan of one request head; reset for each request.
struct head_scan {
  std::size_t pos = 0;        ///< bytes scanned
  std::size_t line_start = 0; ///< start of the line being scanned
  std::size_t head_end = 0;   ///< past the blank line, once found
  std::size_t body = 0;       ///< Content-Length, once the head is found
  frame_kind at_head_end = frame_kind::incomplete;
  bool chunked = false;       ///< the body is `Transfer-Encoding: chunked`
  chunk_step step = chunk_step::size_line;
  std::size_t chunk_pos = 0;  ///< next byte of the chunked body to scan
  std::size_t chunk_left = 0; ///< bytes of the current chunk's data still to come
  std::size_t decoded = 0;    ///< body bytes in the chunks so far
  bool expects_continue = false; ///< the head has `Expect: 100-continue`
  bool continue_sent = false;    ///< set by the connection, kept across resets for the
                                 ///< request it was set for: its `100 Continue` is sent, so
                                 ///< the body is framed as any other
};

/// Where a request framed `complete` by `scan` ends in its connection's input.
inline std::size_t request_end(const head_scan& scan) noexcept {
  return scan.chunked ? scan.chunk_pos : scan.head_end + scan.body;
}

/// Scans `in` (the connection's input, which only grows while a request arrives) from
/// where `scan` stopped. `max_body`: MAX_BODY_BYTES.
frame_kind frame_request(std::string_view in, head_scan& scan, std::size_t max_body);

} // namespace ebuse
