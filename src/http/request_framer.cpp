// Request framing for the event loop: head end, line and head limits, Content-Length.
#include "http/request_framer.hpp"

#include <charconv>

#include "core/ascii.hpp"
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

// The head [0, end) is whole: what its framing headers ask for. Anything the library's
// own rules must judge (chunked, 100-continue, duplicate or malformed lengths, a body
// over the limit) goes to a worker, which answers it exactly as for a blocking read.
frame_kind judge_head(std::string_view head, std::size_t max_body, std::size_t& body) {
  body = 0;
  int lengths = 0;
  auto eol = head.find('\n');
  while (eol != std::string_view::npos && eol + 1 < head.size()) {
    auto next = head.find('\n', eol + 1);
    auto line = head.substr(eol + 1, next == std::string_view::npos ? std::string_view::npos
                                                                     : next - eol - 1);
    eol = next;
    if (name_is(line, "transfer-encoding") || name_is(line, "expect"))
      return frame_kind::takeover;
    if (name_is(line, "content-length")) {
      auto v = value_of(line, 14);
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (++lengths > 1 || ec != std::errc{} || p != v.data() + v.size() || v.empty()
          || n > max_body)
        return frame_kind::takeover;
      body = n;
    }
  }
  return frame_kind::complete;
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
                             : judge_head(in.substr(0, scan.head_end), max_body, scan.body);
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
  return in.size() - scan.head_end >= scan.body ? frame_kind::complete
                                                 : frame_kind::incomplete;
}

} // namespace ebuse
