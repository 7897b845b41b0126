// The PostgreSQL schema shared by all tenants, and its migrations.
#pragma once

#include <string>

#include <caf/error.hpp>

#include "storage/pg_conn.hpp"

namespace ebuse::pg {

/// The schema version this build writes (table ebuse.schema_version).
constexpr int schema_version = 1;

/// Creates or upgrades the schema `ebuse` on `c`. Runs under a session advisory lock, so
/// that several nodes starting at once migrate one after the other; each step runs in its
/// own transaction and is skipped once recorded, so running it again is harmless. A
/// database of a newer version is refused (storage_unavailable).
caf::error migrate_schema(connection& c);

/// Connects to `url` and migrates (see above).
caf::error migrate_schema(const std::string& url, const conn_options& opts = {});

} // namespace ebuse::pg
