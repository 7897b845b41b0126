// SSE text: `event:` and `data:` lines, an empty line between events.
#include "streams/sse.hpp"

namespace ebuse::streams {

void append_base64(std::string_view in, std::string& out) {
  static const char table[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.reserve(out.size() + (in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out.push_back(table[v >> 18 & 63]);
    out.push_back(table[v >> 12 & 63]);
    out.push_back(table[v >> 6 & 63]);
    out.push_back(table[v & 63]);
  }
  if (i + 1 == in.size()) {
    unsigned v = byte(i) << 16;
    out.push_back(table[v >> 18 & 63]);
    out.push_back(table[v >> 12 & 63]);
    out.append("==");
  } else if (i + 2 == in.size()) {
    unsigned v = byte(i) << 16 | byte(i + 1) << 8;
    out.push_back(table[v >> 18 & 63]);
    out.push_back(table[v >> 12 & 63]);
    out.push_back(table[v >> 6 & 63]);
    out.push_back('=');
  }
}

void append_data_event(std::string_view payload, bool base64, std::string& out) {
  out.append("event: data\n");
  if (base64) {
    out.append("data:");
    append_base64(payload, out);
    out.append("\n\n");
    return;
  }
  // No space after "data:": a client strips exactly one, which would eat a payload's
  // own leading space.
  std::size_t start = 0;
  for (;;) {
    std::size_t end = payload.find_first_of("\r\n", start);
    out.append("data:");
    out.append(payload.substr(start, end == std::string_view::npos ? end : end - start));
    out.push_back('\n');
    if (end == std::string_view::npos)
      break;
    start = end + (payload[end] == '\r' && end + 1 < payload.size() && payload[end + 1] == '\n'
                     ? 2
                     : 1);
  }
  out.push_back('\n');
}

void append_control_event(offset next, std::string_view cursor, bool up_to_date,
                          bool closed, std::string& out) {
  out.append("event: control\ndata:{\"streamNextOffset\":\"");
  out.append(format_offset(next));
  out.push_back('"');
  if (closed) {
    out.append(",\"streamClosed\":true,\"upToDate\":true");
  } else {
    if (!cursor.empty()) {
      out.append(",\"streamCursor\":\"");
      out.append(cursor);
      out.push_back('"');
    }
    if (up_to_date)
      out.append(",\"upToDate\":true");
  }
  out.append("}\n\n");
}

} // namespace ebuse::streams
