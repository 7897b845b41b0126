// The options of each layer, derived from the validated configuration.
#pragma once

#include "actors/tenant.hpp"
#include "app/config.hpp"
#include "http/options.hpp"

namespace ebuse {

/// The HTTP server's options: address, deadlines, limits, gzip, rate limits.
http_options http_options_of(const server_config& cfg);

/// What every tenant is run with: `base` with the settings READERS, WAL_AUTOCHECKPOINT and
/// STORE_LINGER applied (name and file are per tenant).
tenant_options tenant_defaults_of(const server_config& cfg, tenant_options base = {});

} // namespace ebuse
