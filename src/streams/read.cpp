// GET parameter checks, CDN cursors and entity tags.
#include "streams/read.hpp"

#include "streams/stream_config.hpp"

namespace ebuse::streams {

const char* parse_read_params(const read_query& q, read_params& out) {
  out = read_params{};
  if (q.offset_count > 1)
    return "more than one offset parameter";
  if (q.offset_count == 1) {
    if (q.offset.empty())
      return "the offset parameter is empty";
    out.from = parse_offset(q.offset);
    if (out.from.kind == offset_kind::malformed)
      return "malformed offset: expected -1, now or an offset this server returned";
    out.offset_given = true;
  }
  if (q.live == "long-poll")
    out.live = live_mode::long_poll;
  else if (q.live == "sse")
    out.live = live_mode::sse;
  else if (!q.live.empty())
    return "unknown live mode: expected long-poll or sse";
  if (out.live != live_mode::none && !out.offset_given)
    return "a live read needs an offset parameter";
  if (q.cursor_count > 1)
    return "more than one cursor parameter";
  if (q.cursor_count == 1)
    out.cursor = std::string{q.cursor};
  if (q.limit_count > 0) {
    int64_t n = 0;
    if (q.limit_count > 1 || !parse_decimal(q.limit, max_read_limit, true, n) || n == 0)
      return "limit must be one integer from 1 to 10000";
    out.limit = n;
  }
  return nullptr;
}

std::string response_cursor(int64_t now_ms, const std::optional<std::string>& client,
                            uint64_t random) {
  int64_t current = (now_ms - cursor_epoch_ms) / cursor_interval_ms;
  if (!client || client->empty() || client->size() > 18)
    return std::to_string(current);
  int64_t theirs = 0;
  for (char c : *client) {
    if (c < '0' || c > '9')
      return std::to_string(current);
    theirs = theirs * 10 + (c - '0');
  }
  if (theirs < current)
    return std::to_string(current);
  int64_t jitter_seconds = 1 + static_cast<int64_t>(random % 3600);
  int64_t interval_seconds = cursor_interval_ms / 1000;
  int64_t jitter = (jitter_seconds + interval_seconds - 1) / interval_seconds;
  return std::to_string(theirs + jitter);
}

std::string make_etag(int64_t stream_id, std::string_view start, offset end, bool closed) {
  std::string tag = "\"";
  tag += std::to_string(stream_id);
  tag += ':';
  tag.append(start);
  tag += ':';
  tag += format_offset(end);
  if (closed)
    tag += ":c";
  tag += '"';
  return tag;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept {
  auto opaque = [](std::string_view t) {
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
      t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
      t.remove_suffix(1);
    if (t.substr(0, 2) == "W/")
      t.remove_prefix(2);
    return t;
  };
  auto want = opaque(etag);
  std::size_t start = 0;
  while (start <= if_none_match.size()) {
    auto comma = if_none_match.find(',', start);
    auto item = opaque(if_none_match.substr(
      start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item == "*" || (!item.empty() && item == want))
      return true;
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return false;
}

} // namespace ebuse::streams
