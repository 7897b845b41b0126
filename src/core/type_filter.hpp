// The `type=` filter of event reads: exact types and `prefix.*` wildcards.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ebuse {

/// Which event types a read returns; empty: every type.
struct type_filter {
  std::vector<std::string> exact;    ///< types matched as they are
  std::vector<std::string> prefixes; ///< `order.` for `order.*`: types starting with it

  /// Whether the filter lets every event through.
  bool empty() const noexcept {
    return exact.empty() && prefixes.empty();
  }

  /// Whether `type` passes.
  bool matches(std::string_view type) const noexcept;
};

/// Bounds of a filter, so that a request cannot make a read arbitrarily expensive.
constexpr std::size_t max_type_patterns = 32;
constexpr std::size_t max_type_pattern_bytes = 256;

/// Parses `a,b.*`: comma-separated exact types and `prefix.*` (a non-empty prefix ending in
/// `.`; `*` anywhere else, an empty element, more than max_type_patterns elements or one
/// longer than max_type_pattern_bytes are refused). On failure returns false with `why`.
bool parse_type_filter(std::string_view text, type_filter& out, std::string& why);

} // namespace ebuse
