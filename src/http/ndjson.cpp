// Import replies; the line reader is a template in the header.
#include "http/ndjson.hpp"

#include "core/event_json.hpp"
#include "core/json_text.hpp"

namespace ebuse {

namespace {

void append_summary(const import_summary& s, std::string& out) {
  out.append("\"imported\":");
  append_int(out, s.imported);
  out.append(",\"first_position\":");
  append_int(out, s.first_position);
  out.append(",\"last_position\":");
  append_int(out, s.last_position);
}

} // namespace

std::string render_import_reply(const import_summary& s) {
  std::string out = "{";
  append_summary(s, out);
  out.append("}\n");
  return out;
}

std::string render_import_error(std::string_view message, std::string_view code,
                                int64_t line, const import_summary& s) {
  std::string out = "{\"error\":";
  json::append_quoted(message, out);
  out.append(",\"code\":");
  json::append_quoted(code, out);
  if (line > 0) {
    out.append(",\"line\":");
    append_int(out, line);
  }
  out.push_back(',');
  append_summary(s, out);
  out.append("}\n");
  return out;
}

bool blank_line(std::string_view line) noexcept {
  return json::skip_ws(line, 0) == line.size();
}

} // namespace ebuse
