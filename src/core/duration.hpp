// Go's duration syntax (time.ParseDuration), without negative values.
#pragma once

#include <chrono>
#include <string_view>

namespace ebuse {

/// Parses a Go duration (`300ms`, `1.5h`, `1m30s`, `0`); negative values are rejected.
bool parse_go_duration(std::string_view in, std::chrono::nanoseconds& out);

} // namespace ebuse
