// Stream offsets: opaque to clients, fixed width and ordered; inside, (appends, bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ebuse::streams {

/// A position in a stream: after its first `seq` stored appends, which hold `bytes`
/// bytes in all. Both grow with every append, so the pair orders like the text.
struct offset {
  int64_t seq = 0;
  int64_t bytes = 0;
};

constexpr bool operator==(offset a, offset b) noexcept {
  return a.seq == b.seq && a.bytes == b.bytes;
}
constexpr bool operator!=(offset a, offset b) noexcept {
  return !(a == b);
}
constexpr bool operator<(offset a, offset b) noexcept {
  return a.seq < b.seq || (a.seq == b.seq && a.bytes < b.bytes);
}

/// Largest value of either component (16 decimal digits).
constexpr int64_t max_offset_component = 9999999999999999;

/// Length of an offset's text: 16 digits, `_`, 16 digits.
constexpr std::size_t offset_text_size = 33;

/// The text of `o`: `SSSSSSSSSSSSSSSS_BBBBBBBBBBBBBBBB`, zero-padded, so that byte-wise
/// comparison of two texts orders them like the positions. Never `-1` or `now`.
std::string format_offset(offset o);

/// What an `offset` parameter names.
enum class offset_kind {
  start,     ///< `-1`: the beginning of the stream
  now,       ///< `now`: the tail when the request is served
  at,        ///< a position this server returned
  malformed, ///< anything else
};

/// A parsed `offset` parameter.
struct offset_spec {
  offset_kind kind = offset_kind::start;
  offset at; ///< for offset_kind::at
};

/// Parses `-1`, `now` or exactly the form format_offset() writes; everything else
/// (other widths, signs, spaces, commas, slashes, control characters) is malformed.
offset_spec parse_offset(std::string_view text) noexcept;

/// Parses exactly the form format_offset() writes.
bool parse_exact_offset(std::string_view text, offset& out) noexcept;

} // namespace ebuse::streams
