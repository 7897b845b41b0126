// JSON mode: a body becomes messages (one value, or the elements of a top-level array).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ebuse::streams {

/// The messages of a JSON-mode body as stored: each value compacted (insignificant
/// whitespace removed, everything else kept byte for byte) and joined by commas, so
/// that a read answers `[` + rows joined by commas + `]` without parsing anything.
struct json_messages {
  std::string joined;
  int64_t count = 0;
};

/// The verdict on a JSON-mode body.
enum class json_body {
  ok,          ///< `out` holds the messages
  invalid,     ///< not exactly one valid JSON value
  empty_array, ///< `[]`: no messages (valid for a create, a 400 for an append)
};

/// Validates `body` and flattens exactly one level of array: `{"a":1}` is one message,
/// `[{"a":1},{"b":2}]` two, `[[1,2],[3]]` two (`[1,2]` and `[3]`). On `invalid`,
/// `detail` says where.
json_body flatten_json(std::string_view body, json_messages& out, std::string& detail);

/// The first `n` messages of a stored row (`joined` as flatten_json() writes it) into
/// `out`. False when the row holds fewer than `n`.
bool take_json_messages(std::string_view joined, int64_t n, std::string& out);

/// The part of a stored append a fork inherits with Stream-Fork-Sub-Offset `n`: its first
/// `n` messages in JSON mode, else its first `n` bytes. False when `n` is past its end.
bool take_sub_offset(std::string_view data, bool json, int64_t n, std::string& out);

} // namespace ebuse::streams
