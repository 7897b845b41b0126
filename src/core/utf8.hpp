// UTF-8 sequence checks shared by the JSON scanner and writer (internal to core/).
#pragma once

#include <cstddef>

namespace ebuse::json {

// Length of the well-formed UTF-8 sequence starting at p (lead byte >= 0x80), or 0.
inline std::size_t utf8_seq_len(const unsigned char* p, std::size_t avail) noexcept {
  const unsigned char c = p[0];
  unsigned char lo = 0x80, hi = 0xBF;  // the range allowed for the second byte
  std::size_t len;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;       // overlong
    else if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;       // overlong
    else if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (avail < len || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < len; ++i)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return len;
}

} // namespace ebuse::json
