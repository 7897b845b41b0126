// The route table outside the handlers: allowed methods, metrics paths, who may call what.
#pragma once

#include <string>
#include <string_view>

namespace ebuse {

/// The methods served on `path` (for 405 and `Allow`), or null for an unknown path.
const char* allowed_methods(const std::string& path, bool multi_tenant);

/// Whether `path` serves metrics.
bool is_metrics_path(const std::string& path);

/// Which key a path needs.
enum class route_access {
  open,            ///< no key (/health, /dashboard)
  tenant,          ///< a tenant's key: that tenant's data
  tenant_or_admin, ///< a tenant's key (its view) or an admin key (every tenant)
  admin,           ///< an admin key only; a tenant key is refused with 403
};

/// The access rule of `path`; unknown paths need a tenant key, as the original's did.
route_access access_of(const std::string& path);

/// The tenant name in `/admin/tenants/{name}/backup`, or empty when `path` is not that.
std::string_view backup_tenant_of(std::string_view path);

} // namespace ebuse
