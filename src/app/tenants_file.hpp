// tenants.yaml: the multi-tenant configuration, parsed and validated as a whole.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "actors/registry.hpp"
#include "core/tenant_name.hpp"

namespace ebuse {

/// A validated tenants file.
struct tenants_file {
  std::string data_dir = "data";        ///< where `<name>.db` files live
  std::vector<tenant_spec> tenants;     ///< db_path = <data_dir>/<name>.db
  std::vector<key_digest> admin_keys;   ///< keys that read every tenant's metrics
  std::vector<std::string> warnings;    ///< unknown keys, worth a log line
  /// Top-level `storage:` (sqlite or postgres) and `database_url:`, for every tenant of
  /// the file; empty when not given (the environment's STORAGE and DATABASE_URL apply).
  std::string storage;
  std::string database_url;
};

/// The storage every tenant of a file uses.
struct storage_choice {
  std::string storage = "sqlite"; ///< sqlite or postgres
  std::string database_url;       ///< postgres only
};

/// Settles the file's storage: its own `storage:`/`database_url:` when given, else
/// `env` (STORAGE, DATABASE_URL); sets each tenant's database_url for postgres. False
/// with `err` on an invalid choice (the key named).
bool settle_storage(tenants_file& file, const storage_choice& env, storage_choice& out,
                    std::string& err);

/// Parses YAML text. On an invalid file returns false with `err` naming the problem
/// (no tenants, bad or duplicate name, empty or duplicate key, a key given twice, bad
/// YAML); nothing is partially applied.
bool parse_tenants_yaml(const std::string& text, tenants_file& out, std::string& err);

/// Reads and parses the file at `path`.
bool load_tenants_file(const std::string& path, tenants_file& out, std::string& err);

/// Creates `dir` owner-only (0700) if missing; an existing directory is left as it is.
bool ensure_data_dir(const std::string& dir, std::string& err);

/// Re-reads `path` and applies it to `registry` (SIGHUP), with `extra_admin_keys` (from
/// ADMIN_API_KEY) added to the file's. An invalid file changes nothing and returns false
/// with `err`; `file` receives what was applied.
/// The storage is settled against `env` and must stay `running` (a change of storage
/// needs a restart).
bool reload_tenants(const std::string& path, tenant_registry& registry, tenants_file& file,
                    std::string& err, const std::vector<key_digest>& extra_admin_keys = {},
                    const storage_choice& env = {}, const storage_choice& running = {});

} // namespace ebuse
