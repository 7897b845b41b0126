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

/// The parameters of a GET.
struct read_params {
  offset_spec from;
  bool offset_given = false;
  live_mode live = live_mode::none;
  std::optional<std::string> cursor;
};

/// Parses a GET's parameters. `offset_count` is how many `offset` parameters came;
/// `offset` their (first) value; `live` and `cursor` empty when absent. Returns why the
/// request is malformed, or nullptr: several or empty offsets, a malformed offset, an
/// unknown live mode, a live mode without an offset.
const char* parse_read_params(std::size_t offset_count, std::string_view offset,
                              std::string_view live, std::size_t cursor_count,
                              std::string_view cursor, read_params& out);

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
