// Event timestamps: RFC 3339 on the wire, the Go SQLite drivers' text forms on disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ebuse::ts {

/// A wall-clock time with nanoseconds and a fixed UTC offset, as Go's time.Time keeps
/// a parsed time (the offset is preserved, never normalised to UTC).
struct civil_time {
  int year = 1;          ///< 0..9999
  int month = 1;         ///< 1..12
  int day = 1;           ///< 1..days in month
  int hour = 0;          ///< 0..23
  int minute = 0;        ///< 0..59
  int second = 0;        ///< 0..59 (Go rejects leap seconds too)
  int32_t nanos = 0;     ///< 0..999999999
  int offset_minutes = 0; ///< east of UTC, -1439..1439
};

/// Parses RFC 3339 as Go's time.Time.UnmarshalJSON does (without the quotes):
/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, calendar-checked; fraction digits past
/// the ninth are dropped, as Go does.
bool parse_rfc3339(std::string_view in, civil_time& out) noexcept;

/// Writes `t` as Go's MarshalJSON does (RFC3339Nano) into `out` (at least
/// max_rfc3339_text bytes): fraction with trailing zeros trimmed (none when zero), `Z`
/// for a zero offset, else `±HH:MM`. Returns the length.
std::size_t write_rfc3339(char* out, const civil_time& t) noexcept;

/// Parses the text a Go SQLite driver stored in the `timestamp` column:
/// mattn's `2006-01-02 15:04:05.999999999-07:00` (also with `T`, a trailing `Z`,
/// without fraction, seconds or offset), and Go's time.String() form written by the
/// modernc driver `2006-01-02 15:04:05.999999999 -0700 MST` (optionally followed by a
/// monotonic-clock suffix ` m=+0.000000001`). A missing offset means UTC.
bool parse_stored(std::string_view in, civil_time& out) noexcept;

/// Formats in mattn's form `2006-01-02 15:04:05.999999999-07:00` (trailing zeros of
/// the fraction trimmed; the offset always numeric, `+00:00` for UTC).
std::string format_stored(const civil_time& t);

/// Longest RFC 3339 text written ("9999-12-31T23:59:59.999999999+23:59" is 35 bytes).
constexpr std::size_t max_rfc3339_text = 40;

/// Converts stored text straight to the RFC 3339 wire form into `out` (at least
/// max_rfc3339_text bytes); returns its length, 0 when the text is in no known form.
std::size_t stored_to_rfc3339(std::string_view stored, char* out) noexcept;

/// The current time in UTC with nanosecond resolution.
civil_time now_utc();

/// `t` as milliseconds since the Unix epoch (its offset applied; a fraction below a
/// millisecond dropped).
int64_t to_unix_ms(const civil_time& t) noexcept;

/// The UTC time `unix_ms` milliseconds after the Unix epoch (before it when negative).
civil_time utc_of_unix_ms(int64_t unix_ms) noexcept;

/// Milliseconds since the Unix epoch now.
int64_t unix_now_ms();

} // namespace ebuse::ts
