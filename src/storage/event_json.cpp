// Renders stored events as wire JSON by string assembly.
#include "storage/event_json.hpp"

#include <charconv>

#include "storage/json_text.hpp"
#include "storage/timestamp.hpp"

namespace ebuse {

void append_int(std::string& out, int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, res.ptr);
}

void append_event_json(std::string& out, int64_t position, std::string_view type,
                       std::string_view data, std::string_view stored_ts) {
  out.append("{\"position\":");
  append_int(out, position);
  out.append(",\"type\":");
  json::append_quoted(type, out);
  out.append(",\"data\":");
  // The column is NOT NULL, but an empty blob would make the document invalid.
  if (data.empty())
    out.append("null");
  else
    out.append(data);
  out.append(",\"timestamp\":\"");
  if (!ts::append_stored_as_rfc3339(stored_ts, out))
    out.append("0001-01-01T00:00:00Z");
  out.append("\"}");
}

} // namespace ebuse
