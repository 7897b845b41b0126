// Go's duration syntax, shared by the settings and the `wait` query parameter.
#include "core/duration.hpp"

#include <cstdint>
#include <limits>

namespace ebuse {

bool parse_go_duration(std::string_view in, std::chrono::nanoseconds& out) {
  if (in == "0") {
    out = std::chrono::nanoseconds{0};
    return true;
  }
  if (!in.empty() && in[0] == '+')
    in.remove_prefix(1);
  if (in.empty())
    return false;
  long double total = 0;
  size_t i = 0;
  while (i < in.size()) {
    long double value = 0;
    size_t digits = 0;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
      value = value * 10 + (in[i++] - '0');
      ++digits;
    }
    if (i < in.size() && in[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
        value += (in[i++] - '0') * scale;
        scale /= 10;
        ++digits;
      }
    }
    if (digits == 0)
      return false;
    size_t unit_start = i;
    while (i < in.size() && !(in[i] >= '0' && in[i] <= '9') && in[i] != '.')
      ++i;
    auto unit = in.substr(unit_start, i - unit_start);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return false;
    total += value * mult;
    if (total > static_cast<long double>(std::numeric_limits<int64_t>::max()))
      return false;
  }
  out = std::chrono::nanoseconds{static_cast<int64_t>(total)};
  return true;
}

} // namespace ebuse
