// Parsing of the create headers, expiry arithmetic and the idempotent-create match.
#include "streams/stream_config.hpp"

#include <cstdio>

#include "core/ascii.hpp"
#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "streams/content_type.hpp"

namespace ebuse::streams {

bool parse_decimal(std::string_view text, int64_t max, bool canonical, int64_t& out) noexcept {
  if (text.empty() || text.size() > 18 || (canonical && text.size() > 1 && text[0] == '0'))
    return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  if (v > max)
    return false;
  out = v;
  return true;
}

bool parse_ttl(std::string_view text, int64_t& seconds) noexcept {
  return parse_decimal(text, max_ttl_seconds, true, seconds);
}

bool parse_sub_offset(std::string_view text, int64_t& out) noexcept {
  return parse_decimal(text, max_offset_component, true, out);
}

bool parse_expires_at(std::string_view text, int64_t& unix_ms) noexcept {
  ts::civil_time t;
  if (!ts::parse_rfc3339(text, t))
    return false;
  unix_ms = ts::to_unix_ms(t);
  return true;
}

std::string format_expires_at(int64_t unix_ms) {
  // Always three fraction digits: the milliseconds the deadline is kept in.
  auto t = ts::utc_of_unix_ms(unix_ms);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.year, t.month, t.day,
                t.hour, t.minute, t.second, static_cast<int>(t.nanos / 1000000));
  return buf;
}

bool header_is_true(std::string_view value) noexcept {
  return iequals(value, "true");
}

const char* invalid_path_reason(std::string_view path) noexcept {
  if (path.empty())
    return "the stream path is empty";
  if (path.size() > max_path_size)
    return "the stream path is longer than 1024 bytes";
  if (!json::valid_utf8(path))
    return "the stream path is not valid UTF-8";
  for (char c : path)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "the stream path holds a control character";
  std::size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    auto seg = path.substr(start, slash == std::string_view::npos ? std::string_view::npos
                                                                  : slash - start);
    if (seg.empty() || seg == "." || seg == "..")
      return "the stream path has an empty, '.' or '..' segment";
    if (start == 0 && seg == "__ds")
      return "paths under __ds are reserved";
    if (slash == std::string_view::npos)
      break;
    start = slash + 1;
  }
  return nullptr;
}

std::optional<int64_t> expiry_time(const expiry& exp, int64_t last_access_ms) noexcept {
  if (exp.expires_at_ms)
    return *exp.expires_at_ms;
  if (exp.ttl_seconds)
    return last_access_ms + *exp.ttl_seconds * 1000;
  return std::nullopt;
}

bool is_expired(const expiry& exp, int64_t last_access_ms, int64_t now_ms) noexcept {
  auto at = expiry_time(exp, last_access_ms);
  return at && now_ms >= *at;
}

expiry fork_expiry(const expiry& requested, const expiry& source) noexcept {
  if (requested.ttl_seconds || requested.expires_at_ms)
    return requested;
  return source;
}

bool create_matches(const stream_meta& existing, const create_request& req,
                    const expiry& requested_exp) {
  if (req.content_type.empty()) {
    if (!req.fork && !same_media_type(existing.content_type, default_content_type))
      return false;
  } else if (!same_media_type(existing.content_type, req.content_type)) {
    return false;
  }
  if (existing.exp.ttl_seconds != requested_exp.ttl_seconds
      || existing.exp.expires_at_ms != requested_exp.expires_at_ms)
    return false;
  if (existing.closed != req.closed)
    return false;
  bool is_fork = existing.fork_source != 0 || !existing.fork_source_path.empty();
  if (is_fork != req.fork.has_value())
    return false;
  if (!req.fork)
    return true;
  return existing.fork_source_path == req.fork->source_path
         && (!req.fork->at || *req.fork->at == existing.fork_offset)
         && existing.fork_sub_offset == req.fork->sub_offset;
}

} // namespace ebuse::streams
