// Content types of streams: matching, JSON mode, and how SSE carries the data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ebuse::streams {

/// The type of a stream created without a (usable) Content-Type.
constexpr std::string_view default_content_type = "application/octet-stream";

/// Longest Content-Type value accepted.
constexpr std::size_t max_content_type_size = 256;

/// The media type of a Content-Type value: `type/subtype` lowercased, parameters and
/// whitespace dropped (`Application/JSON; charset=utf-8` -> `application/json`).
std::string media_type(std::string_view content_type);

/// Whether `v` is `type/subtype` (RFC 9110 tokens) with optional parameters, printable
/// ASCII and at most max_content_type_size bytes.
bool valid_content_type(std::string_view v) noexcept;

/// Whether two Content-Type values name the same media type (case and parameters
/// ignored, as the protocol's matching requires).
bool same_media_type(std::string_view a, std::string_view b);

/// Whether a stream of this type is in JSON mode (`application/json`).
bool is_json(std::string_view content_type);

/// Whether SSE carries this type's data as text (`text/*`, `application/json`); every
/// other type is sent base64-encoded.
bool sse_is_text(std::string_view content_type);

} // namespace ebuse::streams
