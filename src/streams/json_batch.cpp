// Array flattening over the strict JSON scanner: values are validated and compacted,
// never re-serialized (number literals and key order stay as sent).
#include "streams/json_batch.hpp"

#include "core/json_text.hpp"
#include "streams/types.hpp"

namespace ebuse::streams {

namespace {

// Appends the value in[pos, end) to `out` as the next message.
void add_message(std::string_view in, std::size_t pos, std::size_t end, json_messages& out) {
  if (out.count > 0)
    out.joined.push_back(',');
  json::append_compact(in.substr(pos, end - pos), out.joined);
  ++out.count;
}

json_body flatten_array(std::string_view in, std::size_t pos, json_messages& out,
                        std::string& detail) {
  // `pos` is just past the opening bracket.
  pos = json::skip_ws(in, pos);
  if (pos < in.size() && in[pos] == ']') {
    if (json::skip_ws(in, pos + 1) != in.size()) {
      detail = "unexpected data after the array";
      return json_body::invalid;
    }
    return json_body::empty_array;
  }
  for (;;) {
    std::size_t end = 0;
    if (!json::scan_value(in, pos, end, detail))
      return json_body::invalid;
    add_message(in, pos, end, out);
    pos = json::skip_ws(in, end);
    if (pos < in.size() && in[pos] == ',') {
      pos = json::skip_ws(in, pos + 1);
      continue;
    }
    if (pos < in.size() && in[pos] == ']') {
      if (json::skip_ws(in, pos + 1) != in.size()) {
        detail = "unexpected data after the array";
        return json_body::invalid;
      }
      return json_body::ok;
    }
    detail = "expected ',' or ']' at offset " + std::to_string(pos);
    return json_body::invalid;
  }
}

} // namespace

json_body flatten_json(std::string_view body, json_messages& out, std::string& detail) {
  out = json_messages{};
  std::size_t pos = json::skip_ws(body, 0);
  if (pos < body.size() && body[pos] == '[') {
    auto verdict = flatten_array(body, pos + 1, out, detail);
    if (verdict != json_body::ok)
      out = json_messages{};
    return verdict;
  }
  std::size_t end = 0;
  if (!json::scan_value(body, pos, end, detail))
    return json_body::invalid;
  if (json::skip_ws(body, end) != body.size()) {
    detail = "unexpected data after the JSON value at offset " + std::to_string(end);
    return json_body::invalid;
  }
  add_message(body, pos, end, out);
  return json_body::ok;
}

bool take_json_messages(std::string_view joined, int64_t n, std::string& out) {
  std::size_t pos = 0;
  std::size_t end = 0;
  std::string err;
  for (int64_t i = 0; i < n; ++i) {
    if (i > 0) {
      if (end >= joined.size() || joined[end] != ',')
        return false;
      pos = end + 1;
    }
    if (!json::scan_value(joined, pos, end, err))
      return false;
  }
  out.assign(joined.substr(0, end));
  return true;
}

bool take_sub_offset(std::string_view data, bool json, int64_t n, std::string& out) {
  if (json)
    return take_json_messages(data, n, out);
  if (n < 0 || n > static_cast<int64_t>(data.size()))
    return false;
  out.assign(data.substr(0, static_cast<std::size_t>(n)));
  return true;
}

prepared_body prepare_body(std::string body, bool json) {
  prepared_body out;
  out.json = json;
  if (!json) {
    out.messages = body.empty() ? 0 : 1;
    out.data = std::move(body);
    return out;
  }
  if (body.empty())
    return out;
  json_messages msgs;
  out.verdict = flatten_json(body, msgs, out.detail);
  out.data = std::move(msgs.joined);
  out.messages = msgs.count;
  return out;
}

} // namespace ebuse::streams
