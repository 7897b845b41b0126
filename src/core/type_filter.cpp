// Parsing and matching the `type=` filter of event reads.
#include "core/type_filter.hpp"

namespace ebuse {

bool type_filter::matches(std::string_view type) const noexcept {
  for (const auto& e : exact)
    if (type == e)
      return true;
  for (const auto& p : prefixes)
    if (type.substr(0, p.size()) == p)
      return true;
  return false;
}

bool parse_type_filter(std::string_view text, type_filter& out, std::string& why) {
  out = type_filter{};
  std::size_t count = 0;
  std::size_t i = 0;
  for (;;) {
    auto comma = text.find(',', i);
    auto item = text.substr(i, comma == std::string_view::npos ? std::string_view::npos
                                                               : comma - i);
    if (item.empty())
      return why = "an empty type in the list", false;
    if (++count > max_type_patterns)
      return why = "more than " + std::to_string(max_type_patterns) + " types", false;
    if (item.size() > max_type_pattern_bytes)
      return why = "a type longer than " + std::to_string(max_type_pattern_bytes) + " bytes",
             false;
    auto star = item.find('*');
    if (star == std::string_view::npos) {
      out.exact.emplace_back(item);
    } else if (star + 1 == item.size() && item.size() >= 3 && item[star - 1] == '.') {
      out.prefixes.emplace_back(item.substr(0, star));
    } else {
      return why = "'*' is allowed only as the last part of prefix.*", false;
    }
    if (comma == std::string_view::npos)
      return true;
    i = comma + 1;
  }
}

} // namespace ebuse
