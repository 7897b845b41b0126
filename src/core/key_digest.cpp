// SHA-256 of API keys with OpenSSL (already a dependency of cpp-httplib).
#include "core/key_digest.hpp"

#include <openssl/evp.h>

namespace ebuse {

key_digest digest_of(std::string_view key) {
  key_digest out{};
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

bool parse_digest_hex(std::string_view hex, key_digest& out) {
  if (hex.size() != 64)
    return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = val(hex[2 * i]), lo = val(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

} // namespace ebuse
