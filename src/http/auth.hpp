// API keys: where a request carries one.
#pragma once

#include <string>
#include <string_view>

namespace ebuse {

/// The key of a request: `X-API-Key`, else `Authorization: Bearer KEY` (as the original:
/// an Authorization value without the Bearer prefix is taken whole).
std::string_view extract_key(std::string_view x_api_key, std::string_view authorization);

} // namespace ebuse
