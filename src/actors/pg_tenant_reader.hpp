// The reader of a tenant stored in PostgreSQL: pages as jobs, on connections of the node's pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"

namespace ebuse {

class pg_reader_pool;
class worker_pool;
struct tenant_stats;

/// How long a read waits for a free connection of the node's pool before it is refused
/// with storage_busy (503).
constexpr std::chrono::milliseconds pg_lease_wait{5000};

/// Where a PostgreSQL tenant's reads run.
struct pg_reader_setup {
  std::string tenant;
  /// The node's bounded reader connections, shared by every tenant.
  std::shared_ptr<pg_reader_pool> connections;
  /// The threads the queries run on, shared by every tenant (one per connection, so a
  /// job rarely waits for a connection).
  std::shared_ptr<worker_pool> jobs;
  /// Reads of this tenant in flight at most (READERS); more wait in order.
  std::size_t max_jobs = 3;
};

/// Spawns a cooperative reader of one PostgreSQL tenant: each page, subscription page or
/// health check runs as a job on `setup.jobs` with a connection borrowed from
/// `setup.connections`, and is answered from the job, so that neither threads nor
/// connections grow with tenants. Handles reader_actor's messages like the SQLite
/// reader; Durable Streams reads are answered errc::not_supported. A lost connection
/// answers storage_unavailable (503) and marks the tenant faulty; the connection
/// reconnects on its next use. On an exit message it drops the reads not yet begun,
/// waits for those running, then quits.
reader_actor spawn_pg_tenant_reader(caf::actor_system& sys, pg_reader_setup setup,
                                    std::shared_ptr<tenant_stats> stats);

} // namespace ebuse
