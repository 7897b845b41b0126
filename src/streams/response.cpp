// Status, headers and bodies of every stream response, from operation results.
#include "streams/response.hpp"

#include "core/json_text.hpp"
#include "streams/content_type.hpp"
#include "streams/stream_config.hpp"

namespace ebuse::streams {

namespace {

// Immutable ranges of data may be cached by the client (streams belong to a tenant,
// so never by shared caches); the tail and metadata change, so they are not cached.
constexpr const char* cache_data = "private, max-age=60, stale-while-revalidate=300";
constexpr const char* cache_none = "no-store";

struct outcome_info {
  int status;
  const char* code;
  const char* message;
};

outcome_info info(outcome o) noexcept {
  switch (o) {
    case outcome::ok: return {200, "ok", ""};
    case outcome::created: return {201, "created", ""};
    case outcome::exists: return {200, "exists", ""};
    case outcome::appended: return {204, "appended", ""};
    case outcome::closed: return {204, "closed", ""};
    case outcome::duplicate: return {204, "duplicate", ""};
    case outcome::deleted: return {204, "deleted", ""};
    case outcome::not_found: return {404, "stream_not_found", "no such stream"};
    case outcome::fork_source_not_found:
      return {404, "fork_source_not_found", "the stream to fork does not exist"};
    case outcome::gone: return {410, "stream_gone", "the stream was deleted"};
    case outcome::config_conflict:
      return {409, "stream_exists", "the stream exists with another configuration"};
    case outcome::path_held_by_forks:
      return {409, "stream_deleted_with_forks",
              "the stream at this path was deleted but forks still use it"};
    case outcome::fork_source_gone:
      return {409, "fork_source_deleted", "the stream to fork was deleted"};
    case outcome::content_type_mismatch:
      return {409, "content_type_mismatch", "the Content-Type differs from the stream's"};
    case outcome::stream_closed: return {409, "stream_closed", "the stream is closed"};
    case outcome::stream_seq_conflict:
      return {409, "stream_seq_conflict", "Stream-Seq is not above the last one"};
    case outcome::sequence_gap:
      return {409, "producer_sequence_gap", "Producer-Seq skips a sequence number"};
    case outcome::stale_epoch:
      return {403, "producer_stale_epoch", "Producer-Epoch is older than the current one"};
    case outcome::new_epoch_bad_seq:
      return {400, "producer_epoch_seq", "a new Producer-Epoch must start at Producer-Seq 0"};
    case outcome::empty_body:
      return {400, "empty_body", "an append needs a body (or Stream-Closed: true)"};
    case outcome::missing_content_type:
      return {400, "missing_content_type", "an append needs a valid Content-Type"};
    case outcome::invalid_json: return {400, "invalid_json", "the body is not valid JSON"};
    case outcome::empty_json_array:
      return {400, "empty_json_array", "an append of an empty JSON array adds nothing"};
    case outcome::bad_offset:
      return {400, "invalid_offset", "the offset is not a position of this stream"};
    case outcome::bad_fork_offset:
      return {400, "invalid_fork_offset",
              "Stream-Fork-Offset is malformed or past the source's tail"};
    case outcome::bad_sub_offset:
      return {400, "invalid_fork_sub_offset",
              "Stream-Fork-Sub-Offset is past the source's next append"};
    case outcome::fork_too_deep:
      return {400, "fork_too_deep", "the source is a fork chain at the depth limit"};
    case outcome::too_many_streams:
      return {507, "too_many_streams", "the tenant holds its maximum number of streams"};
    case outcome::stream_too_large:
      return {413, "stream_too_large", "the append would pass the stream size limit"};
  }
  return {500, "internal", "internal error"};
}

response error_body(int status, std::string_view code, std::string_view message) {
  response r;
  r.status = status;
  r.body = "{\"error\":";
  json::append_quoted(message, r.body);
  r.body += ",\"code\":\"";
  r.body.append(code);
  r.body += "\"}\n";
  r.add("Content-Type", "application/json");
  r.add("Cache-Control", cache_none);
  return r;
}

void add_expiry(response& r, const expiry& exp) {
  if (exp.ttl_seconds)
    r.add("Stream-TTL", std::to_string(*exp.ttl_seconds));
  if (exp.expires_at_ms)
    r.add("Stream-Expires-At", format_expires_at(*exp.expires_at_ms));
}

void add_producer(response& r, const write_result& w) {
  if (!w.has_producer)
    return;
  r.add("Producer-Epoch", std::to_string(w.producer_epoch));
  if (w.result != outcome::stale_epoch)
    r.add("Producer-Seq", std::to_string(w.producer_seq));
}

} // namespace

std::string response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name)
      return v;
  return {};
}

const std::vector<std::pair<std::string, std::string>>& common_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
    {"X-Content-Type-Options", "nosniff"},
    {"Cross-Origin-Resource-Policy", "cross-origin"},
    {"Access-Control-Allow-Origin", "*"},
    {"Access-Control-Expose-Headers",
     "Stream-Next-Offset, Stream-Cursor, Stream-Up-To-Date, Stream-Closed, Stream-TTL, "
     "Stream-Expires-At, Stream-SSE-Data-Encoding, Producer-Epoch, Producer-Seq, "
     "Producer-Expected-Seq, Producer-Received-Seq, ETag, Location, Content-Type"},
  };
  return headers;
}

response preflight_response() {
  response r;
  r.status = 204;
  r.add("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  r.add("Access-Control-Allow-Headers",
        "Authorization, X-API-Key, Content-Type, If-None-Match, Stream-Seq, Stream-TTL, "
        "Stream-Expires-At, Stream-Closed, Producer-Id, Producer-Epoch, Producer-Seq, "
        "Stream-Forked-From, Stream-Fork-Offset, Stream-Fork-Sub-Offset");
  r.add("Access-Control-Max-Age", "86400");
  return r;
}

int status_of(outcome o) noexcept {
  return info(o).status;
}

const char* code_of(outcome o) noexcept {
  return info(o).code;
}

response error_response(outcome o, std::string_view message) {
  auto i = info(o);
  return error_body(i.status, i.code, message.empty() ? i.message : message);
}

response bad_request(std::string_view code, std::string_view message) {
  return error_body(400, code, message);
}

response write_response(const write_result& w, std::string_view location) {
  auto i = info(w.result);
  response r;
  if (i.status >= 400) {
    r = error_response(w.result, w.detail);
  } else {
    r.status = i.status;
    r.add("Cache-Control", cache_none);
  }
  switch (w.result) {
    case outcome::created:
    case outcome::exists:
      r.add("Content-Type", w.content_type);
      if (w.result == outcome::created && !location.empty())
        r.add("Location", std::string{location});
      break;
    case outcome::appended:
      if (w.has_producer)
        r.status = 200;
      break;
    case outcome::sequence_gap:
      r.add("Producer-Expected-Seq", std::to_string(w.expected_seq));
      r.add("Producer-Received-Seq", std::to_string(w.received_seq));
      break;
    default:
      break;
  }
  // Successes tell the tail; so does the refusal of a closed stream (its final offset).
  bool tells_tail = (i.status < 400 && w.result != outcome::deleted)
                    || w.result == outcome::stream_closed;
  if (tells_tail) {
    r.add("Stream-Next-Offset", format_offset(w.tail));
    if (w.closed)
      r.add("Stream-Closed", "true");
  }
  add_producer(r, w);
  return r;
}

response head_response(const read_result& rr) {
  if (rr.result != outcome::ok)
    return error_response(rr.result, rr.detail);
  response r;
  r.add("Content-Type", rr.meta.content_type);
  r.add("Stream-Next-Offset", format_offset(rr.meta.tail));
  if (rr.meta.closed)
    r.add("Stream-Closed", "true");
  add_expiry(r, rr.meta.exp);
  r.add("Cache-Control", cache_none);
  return r;
}

response read_response(const read_result& rr, std::string_view start,
                       std::string_view if_none_match, std::string_view cursor) {
  if (rr.result != outcome::ok)
    return error_response(rr.result, rr.detail);
  bool eof = rr.meta.closed && rr.up_to_date;
  auto etag = make_etag(rr.meta.id, start, rr.next, eof);
  response r;
  const char* cache = rr.appends > 0 ? cache_data : cache_none;
  if (!if_none_match.empty() && etag_matches(if_none_match, etag)) {
    r.status = 304;
    r.add("ETag", etag);
    r.add("Cache-Control", cache);
    return r;
  }
  r.add("Content-Type", rr.meta.content_type);
  r.add("Stream-Next-Offset", format_offset(rr.next));
  if (rr.up_to_date)
    r.add("Stream-Up-To-Date", "true");
  if (eof)
    r.add("Stream-Closed", "true");
  if (!cursor.empty())
    r.add("Stream-Cursor", std::string{cursor});
  r.add("ETag", std::move(etag));
  r.add("Cache-Control", cache);
  r.body = rr.payload;
  return r;
}

response now_response(const read_result& rr) {
  if (rr.result != outcome::ok)
    return error_response(rr.result, rr.detail);
  response r;
  r.add("Content-Type", rr.meta.content_type);
  r.add("Stream-Next-Offset", format_offset(rr.meta.tail));
  r.add("Stream-Up-To-Date", "true");
  if (rr.meta.closed)
    r.add("Stream-Closed", "true");
  r.add("Cache-Control", cache_none);
  if (is_json(rr.meta.content_type))
    r.body = "[]";
  return r;
}

response poll_timeout_response(const read_result& rr, std::string_view cursor) {
  if (rr.result != outcome::ok)
    return error_response(rr.result, rr.detail);
  response r;
  r.status = 204;
  r.add("Stream-Next-Offset", format_offset(rr.next));
  r.add("Stream-Up-To-Date", "true");
  if (rr.meta.closed)
    r.add("Stream-Closed", "true");
  else if (!cursor.empty())
    r.add("Stream-Cursor", std::string{cursor});
  r.add("Cache-Control", cache_none);
  return r;
}

response sse_head(const read_result& rr) {
  if (rr.result != outcome::ok)
    return error_response(rr.result, rr.detail);
  response r;
  r.add("Content-Type", "text/event-stream");
  r.add("Cache-Control", "no-cache");
  if (!sse_is_text(rr.meta.content_type))
    r.add("Stream-SSE-Data-Encoding", "base64");
  return r;
}

} // namespace ebuse::streams
