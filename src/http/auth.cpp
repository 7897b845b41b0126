// Constant-time key checks and key extraction.
#include "http/auth.hpp"

namespace ebuse {

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  // Scan the expected key's full length whatever the input's, so timing reveals
  // neither a matching prefix nor (beyond that) the length.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

std::string_view extract_key(std::string_view x_api_key, std::string_view authorization) {
  if (!x_api_key.empty())
    return x_api_key;
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.substr(0, bearer.size()) == bearer)
    authorization.remove_prefix(bearer.size());
  return authorization;
}

} // namespace ebuse
