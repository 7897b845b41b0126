// Timestamps as strings, for the tests: the production writers, wrapped.
#pragma once

#include <string>
#include <string_view>

#include "core/timestamp.hpp"

namespace ebuse::ts {

/// `t` as Go's MarshalJSON writes it (see write_rfc3339).
inline std::string format_rfc3339(const civil_time& t) {
  char buf[max_rfc3339_text];
  return std::string(buf, write_rfc3339(buf, t));
}

/// Appends the RFC 3339 form of stored text to `out` (see stored_to_rfc3339); false,
/// appending nothing, for text in no known form.
inline bool append_stored_as_rfc3339(std::string_view stored, std::string& out) {
  char buf[max_rfc3339_text];
  std::size_t n = stored_to_rfc3339(stored, buf);
  if (n == 0)
    return false;
  out.append(buf, n);
  return true;
}

} // namespace ebuse::ts
