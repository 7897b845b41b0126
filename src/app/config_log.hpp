// The effective configuration as fields of the start-up log line.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "obs/logger.hpp"

namespace ebuse {

/// Every setting, as log fields. Secrets never appear: API_KEY shows only whether it
/// was set or generated.
std::vector<log::field> config_fields(const server_config& cfg);

/// A duration in Go's short form (`30s`, `1m30s`, `500ms`).
std::string format_duration(std::chrono::nanoseconds d);

} // namespace ebuse
