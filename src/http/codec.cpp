// Parses request bodies with the strict JSON scanner; renders replies by string assembly.
#include "http/codec.hpp"

#include "core/ascii.hpp"
#include "core/decimal.hpp"
#include "core/errc.hpp"
#include "core/event_json.hpp"
#include "core/json_text.hpp"
#include "core/timestamp.hpp"

namespace ebuse {

namespace {

caf::error bad_json(std::string msg) {
  return make_error(errc::invalid_json, "invalid JSON: " + msg);
}

caf::error bad_event(const std::string& where, std::string msg) {
  return make_error(errc::invalid_event, where + msg);
}

// Visits the members of the object starting at `in[pos] == '{'` and sets `end` one past
// it. `on_member(key, value_span)` returns an error to stop.
template <class F>
caf::error for_each_member(std::string_view in, size_t pos, size_t& end, F&& on_member) {
  std::string err;
  std::string key;
  pos = json::skip_ws(in, pos + 1);
  if (pos < in.size() && in[pos] == '}') {
    end = pos + 1;
    return caf::none;
  }
  for (;;) {
    if (pos >= in.size() || in[pos] != '"')
      return bad_json("expected a string key at offset " + std::to_string(pos));
    key.clear();
    if (!json::decode_string(in, pos, pos, key, err))
      return bad_json(err);
    pos = json::skip_ws(in, pos);
    if (pos >= in.size() || in[pos] != ':')
      return bad_json("expected ':' at offset " + std::to_string(pos));
    pos = json::skip_ws(in, pos + 1);
    size_t value_end;
    if (!json::scan_value(in, pos, value_end, err))
      return bad_json(err);
    if (auto e = on_member(key, in.substr(pos, value_end - pos)))
      return e;
    pos = json::skip_ws(in, value_end);
    if (pos < in.size() && in[pos] == ',') {
      pos = json::skip_ws(in, pos + 1);
      continue;
    }
    if (pos < in.size() && in[pos] == '}') {
      end = pos + 1;
      return caf::none;
    }
    return bad_json("expected ',' or '}' at offset " + std::to_string(pos));
  }
}

// Parses one event object at `in[pos]`; `where` prefixes messages ("event 3: "). The
// position, if present and not null, lands in `position` (else it stays as it was).
caf::error parse_event_at(std::string_view in, size_t pos, size_t& end,
                          const std::string& where, new_event& out,
                          int64_t* position = nullptr) {
  if (pos >= in.size() || in[pos] != '{') {
    std::string err;
    size_t ignored;
    if (!json::scan_value(in, pos, ignored, err))
      return bad_json(err);
    return bad_event(where, "an event must be a JSON object");
  }
  std::string_view type_raw, data_raw, ts_raw, pos_raw;
  auto err = for_each_member(in, pos, end, [&](const std::string& key,
                                               std::string_view value) -> caf::error {
    if (iequals(key, "type"))
      type_raw = value;
    else if (iequals(key, "data"))
      data_raw = value;
    else if (iequals(key, "timestamp"))
      ts_raw = value;
    else if (iequals(key, "position"))
      pos_raw = value;
    return caf::none;
  });
  if (err)
    return err;
  if (!pos_raw.empty() && pos_raw != "null") {
    int64_t value;
    if (!parse_int64(pos_raw, value))
      return bad_event(where, "position must be an integer");
    if (position)
      *position = value;
  }
  if (type_raw.empty() || type_raw == "null")
    return bad_event(where, "missing type");
  if (type_raw[0] != '"')
    return bad_event(where, "type must be a string");
  std::string msg;
  size_t type_end;
  out.type.clear();
  if (!json::decode_string(type_raw, 0, type_end, out.type, msg))
    return bad_json(msg);
  if (out.type.empty())
    return bad_event(where, "type must not be empty");
  if (data_raw.empty())
    return bad_event(where, "missing data");
  out.data.clear();
  // Compaction only shortens: one allocation of the final size, not a doubling series.
  out.data.reserve(data_raw.size());
  json::append_compact(data_raw, out.data);
  ts::civil_time t;
  if (ts_raw.empty() || ts_raw == "null") {
    t = ts::now_utc();
  } else {
    std::string text;
    size_t ts_end;
    if (ts_raw[0] != '"' || !json::decode_string(ts_raw, 0, ts_end, text, msg)
        || !ts::parse_rfc3339(text, t))
      return bad_event(where, "timestamp must be an RFC 3339 string such as "
                              "2024-01-02T15:04:05.123Z");
  }
  out.timestamp = ts::format_stored(t);
  return caf::none;
}

caf::error expect_end(std::string_view in, size_t pos) {
  pos = json::skip_ws(in, pos);
  if (pos != in.size())
    return bad_json("unexpected data after the JSON value at offset "
                    + std::to_string(pos));
  return caf::none;
}

} // namespace

caf::expected<new_event> parse_event(std::string_view body) {
  size_t pos = json::skip_ws(body, 0);
  if (pos == body.size())
    return bad_json("empty body");
  new_event ev;
  size_t end = 0;
  if (auto err = parse_event_at(body, pos, end, "", ev))
    return err;
  if (auto err = expect_end(body, end))
    return err;
  return ev;
}

caf::expected<positioned_event> parse_exported_event(std::string_view line) {
  size_t pos = json::skip_ws(line, 0);
  positioned_event out;
  size_t end = 0;
  if (auto err = parse_event_at(line, pos, end, "", out.event, &out.position))
    return err;
  if (auto err = expect_end(line, end))
    return err;
  if (out.position < 1)
    return bad_event("", "position must be an integer of at least 1");
  return out;
}

caf::expected<std::vector<new_event>> parse_batch(std::string_view body, size_t max) {
  size_t pos = json::skip_ws(body, 0);
  if (pos == body.size())
    return bad_json("empty body");
  if (body[pos] != '[') {
    std::string err;
    size_t ignored;
    if (!json::scan_value(body, pos, ignored, err))
      return bad_json(err);
    return make_error(errc::invalid_batch, "a batch must be a JSON array of events");
  }
  std::vector<new_event> events;
  pos = json::skip_ws(body, pos + 1);
  if (pos < body.size() && body[pos] == ']') {
    if (auto err = expect_end(body, pos + 1))
      return err;
    return make_error(errc::invalid_batch, "a batch must hold at least one event");
  }
  for (;;) {
    if (events.size() == max)
      return make_error(errc::invalid_batch, "a batch holds at most "
                                               + std::to_string(max) + " events");
    events.emplace_back();
    size_t end = 0;
    auto where = "event " + std::to_string(events.size() - 1) + ": ";
    if (auto err = parse_event_at(body, pos, end, where, events.back()))
      return err;
    pos = json::skip_ws(body, end);
    if (pos < body.size() && body[pos] == ',') {
      pos = json::skip_ws(body, pos + 1);
      continue;
    }
    if (pos < body.size() && body[pos] == ']')
      break;
    return bad_json("expected ',' or ']' at offset " + std::to_string(pos));
  }
  if (auto err = expect_end(body, pos + 1))
    return err;
  return events;
}

caf::expected<int64_t> parse_position_body(std::string_view body) {
  size_t pos = json::skip_ws(body, 0);
  if (pos == body.size())
    return bad_json("empty body");
  if (body[pos] != '{')
    return make_error(errc::invalid_subscription,
                      "body must be a JSON object such as {\"position\":42}");
  std::string_view raw;
  size_t end = 0;
  auto err = for_each_member(body, pos, end, [&](const std::string& key,
                                                 std::string_view value) -> caf::error {
    if (iequals(key, "position"))
      raw = value;
    return caf::none;
  });
  if (err)
    return err;
  if (auto e = expect_end(body, end))
    return e;
  int64_t position;
  if (raw.empty())
    return make_error(errc::invalid_subscription, "missing position");
  if (!parse_int64(raw, position) || position < 0)
    return make_error(errc::invalid_subscription,
                      "position must be a non-negative integer");
  return position;
}

caf::error check_subscription_id(std::string_view id) {
  auto bad = [](std::string msg) {
    return make_error(errc::invalid_subscription, std::move(msg));
  };
  if (id.empty())
    return bad("subscription id must not be empty");
  if (id.size() > max_subscription_id_bytes)
    return bad("subscription id must be at most " + std::to_string(max_subscription_id_bytes)
               + " bytes");
  if (id == "." || id == "..")
    return bad("subscription id must not be . or ..");
  for (unsigned char c : id)
    if (c == '/' || c < 0x20 || c == 0x7f)
      return bad("subscription id must not contain / or control characters");
  if (!json::valid_utf8(id))
    return bad("subscription id must be UTF-8");
  return caf::none;
}

caf::expected<int64_t> parse_position_param(const char* name, std::string_view text,
                                            bool allow_minus_one) {
  int64_t v;
  if (!parse_int64(text, v) || (v < 0 && !(allow_minus_one && v == -1)))
    return make_error(errc::invalid_parameter,
                      std::string{"invalid '"} + name
                        + "' parameter: expected a non-negative integer");
  return v;
}

int64_t stream_batch_size(std::string_view text) {
  int64_t v;
  if (parse_int64(text, v) && v >= 1 && v <= 5000)
    return v;
  return 1000;
}

std::string render_position(int64_t position) {
  std::string out = "{\"position\":";
  append_int(out, position);
  out.append("}\n");
  return out;
}

namespace {

// Where the position starts in the wire form: `{"position":`.
constexpr std::size_t position_offset = 12;
// The longest position (`-9223372036854775808`), less the placeholder's one character.
constexpr std::size_t position_room = 19;

} // namespace

saved_event_echo::saved_event_echo(const new_event& ev) {
  text_.reserve(ev.type.size() + ev.data.size() + 96 + position_room);
  append_event_json(text_, 0, ev.type, ev.data, ev.timestamp);
  text_.push_back('\n');
}

std::string saved_event_echo::take(int64_t position) {
  std::string digits;
  append_int(digits, position);
  // Within the reserved capacity: the text moves up in place, nothing is reallocated.
  text_.replace(position_offset, 1, digits);
  return std::move(text_);
}

// The echo ends with `"timestamp":"<RFC 3339>"}\n`, and RFC 3339 text holds no quote:
// the value lies between the last two quotes.
std::string_view saved_event_echo::timestamp() const {
  std::size_t close = text_.size() - 3;
  std::size_t open = text_.rfind('"', close - 1) + 1;
  return std::string_view{text_}.substr(open, close - open);
}

void saved_event_echo::set_timestamp(std::string_view rfc3339) {
  std::size_t close = text_.size() - 3;
  std::size_t open = text_.rfind('"', close - 1) + 1;
  text_.replace(open, close - open, rfc3339);
}

std::string render_saved_event(const new_event& ev, int64_t position) {
  return saved_event_echo{ev}.take(position);
}

std::string render_batch_reply(size_t saved, int64_t first, int64_t last) {
  std::string out = "{\"first_position\":";
  append_int(out, first);
  out.append(",\"last_position\":");
  append_int(out, last);
  out.append(",\"saved\":");
  append_int(out, static_cast<int64_t>(saved));
  out.append("}\n");
  return out;
}

std::string render_tenants(const std::vector<std::string>& names) {
  std::string out = "{\"count\":";
  append_int(out, static_cast<int64_t>(names.size()));
  out.append(",\"tenants\":[");
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      out.push_back(',');
    json::append_quoted(names[i], out);
  }
  out.append("]}\n");
  return out;
}

} // namespace ebuse
