// API keys: where a request carries one, and comparing them in constant time.
#pragma once

#include <string>
#include <string_view>

namespace ebuse {

/// Compares two keys in time independent of where they differ.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

/// The key of a request: `X-API-Key`, else `Authorization: Bearer KEY` (as the original:
/// an Authorization value without the Bearer prefix is taken whole).
std::string_view extract_key(std::string_view x_api_key, std::string_view authorization);

} // namespace ebuse
