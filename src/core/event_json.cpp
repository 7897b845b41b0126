// Renders stored events as wire JSON by string assembly.
#include "core/event_json.hpp"

#include <charconv>
#include <cstring>

#include "core/json_text.hpp"
#include "core/timestamp.hpp"

namespace ebuse {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

namespace {

// True when Go's encoder writes `s` as is between quotes: printable ASCII other than
// `"`, `\` and the HTML-sensitive `<`, `>`, `&`.
bool plain_text(std::string_view s) noexcept {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
      return false;
  return true;
}

template <std::size_t N>
char* put(char* p, const char (&lit)[N]) noexcept {
  std::memcpy(p, lit, N - 1);
  return p + N - 1;
}

constexpr std::size_t max_plain_type = 128;

} // namespace

// Called once per event on every read, so the event goes out in three appends: the front
// with position and type, the stored data, and the tail with the timestamp.
void append_event_json(std::string& out, int64_t position, std::string_view type,
                       std::string_view data, std::string_view stored_ts) {
  char front[48 + max_plain_type];
  char* p = put(front, "{\"position\":");
  p = std::to_chars(p, p + 24, position).ptr;
  p = put(p, ",\"type\":");
  if (type.size() <= max_plain_type && plain_text(type)) {
    *p++ = '"';
    std::memcpy(p, type.data(), type.size());
    p += type.size();
    *p++ = '"';
    p = put(p, ",\"data\":");
    out.append(front, static_cast<std::size_t>(p - front));
  } else {
    out.append(front, static_cast<std::size_t>(p - front));
    json::append_quoted(type, out);
    out.append(",\"data\":");
  }
  // The column is NOT NULL, but an empty blob would make the document invalid.
  if (data.empty())
    out.append("null");
  else
    out.append(data);
  char tail[24 + ts::max_rfc3339_text];
  p = put(tail, ",\"timestamp\":\"");
  std::size_t n = ts::stored_to_rfc3339(stored_ts, p);
  if (n == 0)
    p = put(p, "0001-01-01T00:00:00Z");
  else
    p += n;
  p = put(p, "\"}");
  out.append(tail, static_cast<std::size_t>(p - tail));
}

} // namespace ebuse
