// Read requests: query parameters, live modes, cursors and ETags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "streams/offset.hpp"

namespace ebuse::streams {

/// How a GET reads.
enum class live_mode {
  none,      ///< catch-up: what is there now
  long_poll, ///< wait for data when there is none past the offset
  sse,       ///< server-sent events until the lifetime ends or the stream closes
};

/// Most appends one read returns when the client asks for fewer (`limit`).
constexpr int64_t max_read_limit = 10000;

/// The parameters of a GET.
struct read_params {
  offset_spec from;
  bool offset_given = false;
  live_mode live = live_mode::none;
  std::optional<std::string> cursor;
  /// `limit`: at most this many appends (an extension for clients that page by count,
  /// such as ebu, whose appends are one event each).
  std::optional<int64_t> limit;
};

/// A GET's query parameters as they came: how often each appeared and its first value.
struct read_query {
  std::size_t offset_count = 0;
  std::string_view offset;
  std::string_view live;
  std::size_t cursor_count = 0;
  std::string_view cursor;
  std::size_t limit_count = 0;
  std::string_view limit;
};

/// Parses a GET's parameters (others are ignored). Returns why the request is
/// malformed, or nullptr: several or empty offsets, a malformed offset, an unknown live
/// mode, a live mode without an offset, several cursors, a limit that is not 1 to
/// max_read_limit.
const char* parse_read_params(const read_query& q, read_params& out);

/// Cursor arithmetic (protocol 10.1): 20-second intervals since 2024-10-09T00:00:00Z.
constexpr int64_t cursor_epoch_ms = 1728432000000;
constexpr int64_t cursor_interval_ms = 20000;

/// The cursor of a live response at `now_ms`: the current interval, unless the client
/// echoed a cursor at or past it; then that cursor plus a jitter of 1 to 3600 seconds
/// in intervals (taken from `random`), so that cursors never repeat or go back.
std::string response_cursor(int64_t now_ms, const std::optional<std::string>& client,
                            uint64_t random);

/// The ETag of a read: `"<stream id>:<start>:<end>"`, with `:c` when the response
/// carries the closure, so that closing a stream changes the tag of its tail.
std::string make_etag(int64_t stream_id, std::string_view start, offset end, bool closed);

/// Whether an If-None-Match value (a list of tags, or `*`) names `etag`; weak tags
/// (`W/"..."`) compare by their opaque part.
bool etag_matches(std::string_view if_none_match, std::string_view etag) noexcept;

} // namespace ebuse::streams
