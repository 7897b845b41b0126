// Start-up: the options of each layer and the tenants, from the validated configuration.
#pragma once

#include <string>
#include <vector>

#include "actors/registry.hpp"
#include "actors/tenant.hpp"
#include "app/config.hpp"
#include "app/tenants_file.hpp"
#include "http/options.hpp"

namespace ebuse {

/// The HTTP server's options: address, deadlines, limits, gzip, rate limits.
http_options http_options_of(const server_config& cfg);

/// What every tenant is run with: `base` with the settings READERS, WAL_AUTOCHECKPOINT,
/// STORE_LINGER, DS_MAX_STREAMS and DS_MAX_STREAM_BYTES applied (name and file are per
/// tenant).
tenant_options tenant_defaults_of(const server_config& cfg, tenant_options base = {});

/// The tenants to serve and who administers them.
struct tenancy {
  registry_options registry;          ///< tenants, admin keys, defaults, lifecycle log
  std::vector<key_digest> env_admins; ///< from ADMIN_API_KEY (kept across reloads)
  bool multi_tenant = false;          ///< a tenants file (-config) is in use
  storage_choice env_storage;         ///< STORAGE and DATABASE_URL
  storage_choice storage;             ///< what every tenant runs on
};

/// Reads the tenants: the tenants file in multi-tenant mode (creating its data
/// directory), else one tenant `default` on DB_PATH whose key is API_KEY, generated for
/// development when unset (then printed on stderr and `cfg.dev_key` set). False with
/// `err` when the file is invalid or its directory cannot be made, or when
/// DS_ANONYMOUS_TENANT names no configured tenant.
bool plan_tenants(server_config& cfg, tenancy& out, std::string& err);

/// SIGHUP: re-reads the tenants file and applies it; an invalid file is logged and the
/// running configuration kept.
void reload_tenants_file(const std::string& path, tenant_registry& registry,
                         const tenancy& plan);

} // namespace ebuse
