// Shared helpers of the libFuzzer targets: invariant checks that abort with a message.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "support/timestamp_text.hpp"

/// Aborts (a libFuzzer finding) when an invariant does not hold.
#define FUZZ_CHECK(cond)                                                               \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)

namespace ebuse::fuzz {

/// The input as a string view.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Field-wise equality of two parsed times.
inline bool same_time(const ts::civil_time& a, const ts::civil_time& b) {
  return a.year == b.year && a.month == b.month && a.day == b.day && a.hour == b.hour
         && a.minute == b.minute && a.second == b.second && a.nanos == b.nanos
         && a.offset_minutes == b.offset_minutes;
}

/// A stored timestamp reads back as RFC 3339 that parses to the same stored text.
inline void check_stored_round_trip(const std::string& stored) {
  std::string wire;
  FUZZ_CHECK(ts::append_stored_as_rfc3339(stored, wire));
  ts::civil_time t;
  FUZZ_CHECK(ts::parse_rfc3339(wire, t));
  FUZZ_CHECK(ts::format_stored(t) == stored);
}

/// `text` is exactly one valid JSON value.
inline void check_json(const std::string& text) {
  std::string err;
  FUZZ_CHECK(json::validate(text, err));
}

} // namespace ebuse::fuzz
