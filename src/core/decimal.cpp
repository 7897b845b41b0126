// Decimal integers with the syntax of Go's strconv.ParseInt.
#include "core/decimal.hpp"

#include <limits>

namespace ebuse {

bool parse_int64(std::string_view in, int64_t& out) {
  if (in.empty())
    return false;
  bool neg = false;
  size_t i = 0;
  if (in[0] == '+' || in[0] == '-') {
    neg = in[0] == '-';
    i = 1;
  }
  if (i == in.size())
    return false;
  // Accumulate negatively so that INT64_MIN parses without overflow.
  int64_t acc = 0;
  constexpr int64_t min = std::numeric_limits<int64_t>::min();
  for (; i < in.size(); ++i) {
    char c = in[i];
    if (c < '0' || c > '9')
      return false;
    int d = c - '0';
    if (acc < (min + d) / 10)
      return false;
    acc = acc * 10 - d;
  }
  if (!neg) {
    if (acc == min)
      return false;
    acc = -acc;
  }
  out = acc;
  return true;
}

} // namespace ebuse
