// JSON text primitives: strict validation with raw spans, compaction, string codec.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ebuse::json {

/// Deepest nesting of arrays/objects accepted (the same bound as Go's encoding/json).
constexpr std::size_t max_depth = 10000;

/// Skips JSON insignificant whitespace (space, tab, CR, LF) starting at `pos`.
std::size_t skip_ws(std::string_view in, std::size_t pos) noexcept;

/// Validates exactly one JSON value (RFC 8259, strict UTF-8, no leading zeros, no NaN,
/// depth <= max_depth) starting at `pos` (no leading whitespace skipped). On success
/// returns true and sets `end` to one past the value; on failure sets `err` to a short
/// human-readable reason mentioning the byte offset. Never recurses.
bool scan_value(std::string_view in, std::size_t pos, std::size_t& end,
                std::string& err);

/// True when `in` holds exactly one JSON value, with optional surrounding whitespace.
bool validate(std::string_view in, std::string& err);

/// Decodes the JSON string literal starting at `in[pos] == '"'` into UTF-8 `out`
/// (escapes resolved, surrogate pairs joined; invalid UTF-8 rejected). Lone surrogate
/// escapes become U+FFFD, as Go's encoding/json decodes them. Sets `end` one past the
/// closing quote.
bool decode_string(std::string_view in, std::size_t pos, std::size_t& end,
                   std::string& out, std::string& err);

/// Appends the valid JSON value `valid` to `out` with insignificant whitespace removed;
/// everything else (number literals, escapes, key order) is kept byte for byte.
void append_compact(std::string_view valid, std::string& out);

/// Appends `s` (valid UTF-8) as a quoted JSON string the way Go's encoding/json writes
/// it: `"` `\` escaped, \n \r \t \b \f, other control characters and <, >, & as \u00XX,
/// U+2028/U+2029 as \u2028/\u2029.
void append_quoted(std::string_view s, std::string& out);

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool valid_utf8(std::string_view s) noexcept;

} // namespace ebuse::json
