// Copying one tenant verbatim from its SQLite file into PostgreSQL (`ebuse migrate`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "storage/pg_conn.hpp"

namespace ebuse {

/// What a migration copied.
struct migrate_report {
  int64_t events = 0;        ///< events copied
  int64_t subscriptions = 0; ///< subscription positions copied
  int64_t head = 0;          ///< the tenant's head in PostgreSQL afterwards
};

/// Tunables of a migration.
struct migrate_options {
  /// Rows sent to PostgreSQL at a time: memory stays at about one chunk.
  std::size_t chunk_rows = 1000;
  /// Connection settings.
  pg::conn_options conn;
};

/// Copies the events (positions, types, data bytes, stored timestamps) and subscription
/// positions of the SQLite file `from` into PostgreSQL at `to_url` as tenant `tenant`,
/// verbatim, in one PostgreSQL transaction (all or nothing) read from one SQLite
/// snapshot, streaming in chunks. Migrates the PostgreSQL schema first. Refuses
/// (invalid_parameter) a tenant that already has events, subscriptions or a head in
/// PostgreSQL, and an invalid tenant name. A missing or unreadable file, or an
/// unreachable PostgreSQL: storage_unavailable with the reason.
caf::expected<migrate_report> migrate_tenant(const std::string& from, const std::string& to_url,
                                             const std::string& tenant,
                                             const migrate_options& opts = {});

} // namespace ebuse
