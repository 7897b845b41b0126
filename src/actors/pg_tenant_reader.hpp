// Tenant readers of a tenant stored in PostgreSQL: pages through the node's reader pool.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"

namespace ebuse {

class pg_reader_pool;
struct tenant_stats;

/// How long a read waits for a free connection of the node's pool before it is refused
/// with storage_busy (503).
constexpr std::chrono::milliseconds pg_lease_wait{5000};

/// Spawns a detached reader of tenant `tenant` that borrows a connection of `pool` (the
/// node's bounded pool, shared by every tenant) for each page or health check, so that
/// the node holds at most the pool's connections for reads whatever its tenants.
/// Handles reader_actor's messages like the SQLite reader; Durable Streams reads are
/// answered errc::not_supported. A lost connection answers storage_unavailable (503)
/// and marks the tenant faulty; the connection reconnects on its next use.
reader_actor spawn_pg_tenant_reader(caf::actor_system& sys, std::shared_ptr<pg_reader_pool> pool,
                                    std::string tenant, std::shared_ptr<tenant_stats> stats,
                                    std::chrono::microseconds spin);

} // namespace ebuse
