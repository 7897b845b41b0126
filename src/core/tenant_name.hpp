// The rule for tenant names, shared by the tenants file, the stores and the HTTP routes.
#pragma once

#include <string_view>

namespace ebuse {

/// True for names of 1..100 characters from [A-Za-z0-9_-] (SPEC §4): safe as a file name
/// and as a key column.
bool valid_tenant_name(std::string_view name) noexcept;

} // namespace ebuse
