// Stream configuration on create: TTL and Expires-At, closure, fork headers, matching.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "streams/types.hpp"

namespace ebuse::streams {

/// Longest Stream-TTL accepted (ten years), so that last access + TTL cannot overflow.
constexpr int64_t max_ttl_seconds = 315360000;

/// Longest stream path (bytes, after URL decoding).
constexpr std::size_t max_path_size = 1024;

/// Parses decimal digits (no sign, no spaces, at most 18) up to `max`; `canonical` also
/// refuses leading zeros.
bool parse_decimal(std::string_view text, int64_t max, bool canonical, int64_t& out) noexcept;

/// Parses Stream-TTL: decimal digits without sign or leading zeros (`0` itself is
/// allowed), at most max_ttl_seconds.
bool parse_ttl(std::string_view text, int64_t& seconds) noexcept;

/// Parses Stream-Expires-At (RFC 3339, any offset) into Unix milliseconds (a fraction
/// below a millisecond is dropped).
bool parse_expires_at(std::string_view text, int64_t& unix_ms) noexcept;

/// Formats Unix milliseconds as RFC 3339 UTC with milliseconds (`...T12:00:00.000Z`).
std::string format_expires_at(int64_t unix_ms);

/// A header that is a flag: present only when its value is `true` (any case); every
/// other value counts as absent.
bool header_is_true(std::string_view value) noexcept;

/// Parses Stream-Fork-Sub-Offset: decimal digits without sign or leading zeros.
bool parse_sub_offset(std::string_view text, int64_t& out) noexcept;

/// Checks a stream path (URL-decoded, after `/v1/stream/`): non-empty, at most
/// max_path_size bytes, valid UTF-8 without control characters, no empty, `.` or `..`
/// segment, and not under the reserved `__ds` prefix. Returns why not, or nullptr.
const char* invalid_path_reason(std::string_view path) noexcept;

/// Whether `exp` can expire at all.
inline bool has_expiry(const expiry& exp) noexcept {
  return exp.ttl_seconds || exp.expires_at_ms;
}

/// When a stream with `exp`, last used at `last_access_ms`, expires (Unix ms), if ever.
std::optional<int64_t> expiry_time(const expiry& exp, int64_t last_access_ms) noexcept;

/// Whether it has expired at `now_ms`.
bool is_expired(const expiry& exp, int64_t last_access_ms, int64_t now_ms) noexcept;

/// A fork's expiry (protocol 4.2): its own TTL or Expires-At if it asks for one, else
/// the source's, inherited as it is (a TTL value, or the same deadline).
expiry fork_expiry(const expiry& requested, const expiry& source) noexcept;

/// Whether an existing stream has the configuration a create asks for (content type,
/// expiry, closure, fork source, offset and sub-offset), so that the create is an
/// idempotent 200 rather than a 409. `requested_exp` is the request's expiry after
/// fork inheritance; a fork request without a Content-Type inherits, so it matches.
bool create_matches(const stream_meta& existing, const create_request& req,
                    const expiry& requested_exp);

} // namespace ebuse::streams
