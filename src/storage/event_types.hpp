// The events of the log as every storage backend takes and gives them.
#pragma once

#include <cstdint>
#include <string>

namespace ebuse {

/// An event accepted for appending: validated and already in its stored form.
struct new_event {
  std::string type;      ///< non-empty UTF-8
  std::string data;      ///< one compact JSON value
  std::string timestamp; ///< mattn text form, see ts::format_stored
};

/// An event with the position it keeps, as exported and imported.
struct positioned_event {
  int64_t position = 0;
  new_event event;
};

/// Positions assigned by one append.
struct append_result {
  int64_t first = 0;
  int64_t last = 0;
};

} // namespace ebuse
