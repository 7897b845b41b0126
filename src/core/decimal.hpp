// Decimal integers as the original server parses them (query parameters, settings).
#pragma once

#include <cstdint>
#include <string_view>

namespace ebuse {

/// Parses a decimal int64 as Go's strconv.ParseInt(s, 10, 64): optional sign, digits,
/// no spaces, no overflow.
bool parse_int64(std::string_view in, int64_t& out);

} // namespace ebuse
