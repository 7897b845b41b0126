// Tenant names: 1..100 characters from [A-Za-z0-9_-].
#include "core/tenant_name.hpp"

namespace ebuse {

bool valid_tenant_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 100)
    return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '_' || c == '-'))
      return false;
  return true;
}

} // namespace ebuse
