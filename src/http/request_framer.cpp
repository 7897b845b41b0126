// Request framing for the event loop: head end, line and head limits, Content-Length
// and chunked bodies.
#include "http/request_framer.hpp"

#include <algorithm>
#include <charconv>

#include "core/ascii.hpp"
#include "http/route_table.hpp"
#include "http/socket_stream.hpp"

namespace ebuse {

namespace {

bool name_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':')
    return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (ascii_lower(line[i]) != name[i])
      return false;
  return true;
}

std::string_view value_of(std::string_view line, std::size_t name_len) {
  auto v = line.substr(name_len + 1);
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
    v.remove_suffix(1);
  return v;
}

// Whether the request line names a route whose handler reads the body as it arrives
// (an import): a chunked body is then left to the worker, so the handler sees each part
// as it comes instead of the whole body after the last chunk.
bool streams_body(std::string_view head) {
  auto line = head.substr(0, head.find('\n'));
  auto sp = line.find(' ');
  if (sp == std::string_view::npos)
    return false;
  auto method = line.substr(0, sp);
  auto target = line.substr(sp + 1);
  target = target.substr(0, std::min(target.find(' '), target.find('?')));
  auto m = match(method, clean_path(target), true);
  return m.status == 200 && m.entry && m.entry->streams_body();
}

// The head [0, end) is whole: what its framing headers ask for. Anything the library's
// own rules must judge (an Expect other than one `100-continue` whose answer is already
// sent, duplicate or malformed lengths, a body over the limit, a transfer coding other
// than a lone `chunked`) goes to a worker, which answers it exactly as for a blocking
// read. A `100-continue` head with a length is noted: its worker decides on the head
// alone and may send `100 Continue` and give the connection back to wait for the body.
frame_kind judge_head(std::string_view head, std::size_t max_body, head_scan& scan) {
  scan.body = 0;
  scan.expects_continue = false;
  int lengths = 0;
  int codings = 0;
  int expects = 0;
  auto eol = head.find('\n');
  while (eol != std::string_view::npos && eol + 1 < head.size()) {
    auto next = head.find('\n', eol + 1);
    auto line = head.substr(eol + 1, next == std::string_view::npos ? std::string_view::npos
                                                                     : next - eol - 1);
    eol = next;
    if (name_is(line, "expect")) {
      // The library acts on the exact value only.
      if (++expects > 1 || value_of(line, 6) != "100-continue")
        return frame_kind::takeover;
      scan.expects_continue = true;
    }
    if (name_is(line, "transfer-encoding")) {
      if (++codings > 1 || !iequals(value_of(line, 17), "chunked"))
        return frame_kind::takeover;
      scan.chunked = true;
    }
    if (name_is(line, "content-length")) {
      auto v = value_of(line, 14);
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (++lengths > 1 || ec != std::errc{} || p != v.data() + v.size() || v.empty()
          || n > max_body)
        return frame_kind::takeover;
      scan.body = n;
    }
  }
  // Both a length and a coding: ambiguous, the library's rules decide.
  if (scan.chunked && (lengths > 0 || streams_body(head)))
    return frame_kind::takeover;
  // A `100-continue` whose answer was not sent yet: its worker decides on the head.
  // Only a length-framed one may wait for its body in the loop.
  if (scan.expects_continue && !scan.continue_sent && (scan.chunked || lengths == 0))
    return frame_kind::takeover;
  return frame_kind::complete;
}

constexpr std::size_t max_chunk_line = 1024;

// The size of the chunk whose size line is `line` (without its `\n`): 1 to 15 hex
// digits, an optional extension after `;`, then `\r`. False for anything else, which
// goes to a worker: the loop frames only chunks the library reads the same way.
bool chunk_size(std::string_view line, std::size_t& size) {
  if (line.empty() || line.back() != '\r')
    return false;
  line.remove_suffix(1);
  std::size_t digits = 0;
  size = 0;
  for (; digits < line.size() && digits < 16; ++digits) {
    char ch = line[digits];
    int v = ch >= '0' && ch <= '9'   ? ch - '0'
            : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
            : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                     : -1;
    if (v < 0)
      break;
    size = size * 16 + static_cast<std::size_t>(v);
  }
  if (digits == 0 || digits > 15)
    return false;
  auto rest = line.substr(digits);
  return rest.empty() || (rest.front() == ';' && rest.find('\r') == std::string_view::npos);
}

// Scans a chunked body from where it stopped: complete once the last chunk and the
// blank line after it are buffered (trailer fields, which the library does not read, go
// to a worker). The decoded size is held to `max_body` and the raw bytes to twice that,
// so the loop buffers no more for a chunked body than for a Content-Length one.
frame_kind frame_chunks(std::string_view in, head_scan& s, std::size_t max_body) {
  if (s.chunk_pos == 0)
    s.chunk_pos = s.head_end;
  for (;;) {
    if (s.chunk_pos - s.head_end > 2 * max_body + 64 * 1024)
      return frame_kind::takeover;
    switch (s.step) {
      case chunk_step::size_line: {
        auto eol = in.find('\n', s.chunk_pos);
        if (eol == std::string_view::npos)
          return in.size() - s.chunk_pos > max_chunk_line ? frame_kind::takeover
                                                          : frame_kind::incomplete;
        std::size_t size = 0;
        if (eol - s.chunk_pos > max_chunk_line
            || !chunk_size(in.substr(s.chunk_pos, eol - s.chunk_pos), size)
            || size > max_body - s.decoded)
          return frame_kind::takeover;
        s.chunk_pos = eol + 1;
        s.chunk_left = size;
        s.step = size == 0 ? chunk_step::last_end : chunk_step::data;
        break;
      }
      case chunk_step::data: {
        auto take = std::min(in.size() - s.chunk_pos, s.chunk_left);
        s.chunk_pos += take;
        s.chunk_left -= take;
        s.decoded += take;
        if (s.chunk_left > 0)
          return frame_kind::incomplete;
        s.step = chunk_step::data_end;
        break;
      }
      case chunk_step::data_end:
      case chunk_step::last_end: {
        if (in.size() - s.chunk_pos < 2)
          return frame_kind::incomplete;
        if (in.substr(s.chunk_pos, 2) != "\r\n")
          return frame_kind::takeover;
        s.chunk_pos += 2;
        s.step = s.step == chunk_step::last_end ? chunk_step::done : chunk_step::size_line;
        break;
      }
      case chunk_step::done:
        return frame_kind::complete;
    }
  }
}

} // namespace

frame_kind frame_request(std::string_view in, head_scan& scan, std::size_t max_body) {
  if (scan.head_end == 0) {
    for (; scan.pos < in.size(); ++scan.pos) {
      if (in[scan.pos] != '\n')
        continue;
      auto len = scan.pos - scan.line_start;
      bool blank = len == 0 || (len == 1 && in[scan.line_start] == '\r');
      if (len > max_line_bytes + 1)
        return frame_kind::takeover;
      if (blank) {
        // An empty first line is the library's to reject (400).
        scan.head_end = scan.pos + 1;
        scan.at_head_end = scan.line_start == 0
                             ? frame_kind::complete
                             : judge_head(in.substr(0, scan.head_end), max_body, scan);
        break;
      }
      scan.line_start = scan.pos + 1;
    }
    if (scan.head_end == 0) {
      // The line or the head is already over its limit: the worker answers 431.
      if (in.size() > max_header_bytes || scan.pos - scan.line_start > max_line_bytes + 1)
        return frame_kind::takeover;
      return frame_kind::incomplete;
    }
  }
  if (scan.at_head_end != frame_kind::complete)
    return scan.at_head_end;
  if (scan.chunked)
    return frame_chunks(in, scan, max_body);
  if (in.size() - scan.head_end >= scan.body)
    return frame_kind::complete;
  // The client waits for `100 Continue` before it sends the body: the worker answers
  // the head now (admitted: 100; refused: the error).
  return scan.expects_continue && !scan.continue_sent ? frame_kind::takeover
                                                      : frame_kind::incomplete;
}

} // namespace ebuse
