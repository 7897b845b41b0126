// The route table outside the handlers: allowed methods and metrics paths.
#pragma once

#include <string>


namespace ebuse {

/// The methods served on `path` (for 405 and `Allow`), or null for an unknown path.
const char* allowed_methods(const std::string& path, bool multi_tenant);

/// Whether `path` serves metrics.
bool is_metrics_path(const std::string& path);

} // namespace ebuse
