// The open-tenant budget's choices, kept pure so that they are tested without actors.
#include "actors/open_budget.hpp"

#include <algorithm>

namespace ebuse {

std::vector<std::size_t> least_recently_used(std::vector<idle_tenant> candidates,
                                             std::size_t count) {
  auto older = [](const idle_tenant& a, const idle_tenant& b) {
    return a.last_used < b.last_used;
  };
  count = std::min(count, candidates.size());
  // At most a few thousand candidates, each far cheaper than the stop it may lead to;
  // stable, so that ties keep the candidates' order.
  std::stable_sort(candidates.begin(), candidates.end(), older);
  std::vector<std::size_t> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(candidates[i].index);
  return out;
}

std::size_t stops_needed(int64_t open, int64_t limit, std::size_t waiting,
                         std::size_t closing) {
  if (limit <= 0)
    return 0;
  // Places wanted beyond the limit, less those that tenants already closing will free.
  int64_t want = open + static_cast<int64_t>(waiting) - limit - static_cast<int64_t>(closing);
  return want > 0 ? static_cast<std::size_t>(want) : 0;
}

} // namespace ebuse
