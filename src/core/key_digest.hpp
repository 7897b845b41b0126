// API keys are kept only as SHA-256 digests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ebuse {

/// The SHA-256 of an API key.
using key_digest = std::array<uint8_t, 32>;

/// Hashes `key`.
key_digest digest_of(std::string_view key);

/// Parses 64 hex digits (either case) into a digest.
bool parse_digest_hex(std::string_view hex, key_digest& out);

/// The digest as a map key.
inline std::string digest_key(const key_digest& d) {
  return std::string{reinterpret_cast<const char*>(d.data()), d.size()};
}

} // namespace ebuse
