// The tenant reader: a cooperative actor whose reads run as jobs with pooled read-only connections.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "storage/event_store.hpp"
#include "storage/reader_pool.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

struct tenant_stats;

/// Where and how a tenant's reads run.
struct reader_setup {
  std::string db_path;
  store_options opts;
  /// The storage pool the page jobs run on; null: default_storage_pool().
  std::shared_ptr<worker_pool> jobs;
  /// The process-wide read-only connections; null: default_reader_pool().
  std::shared_ptr<reader_pool> connections;
  /// Page jobs of this tenant in flight at most (READERS); more wait in order.
  std::size_t max_jobs = 3;
};

/// Spawns a cooperative reader for one tenant: each load, stream read, subscription page
/// or health check runs as a job on `setup.jobs` with a read-only connection taken from
/// `setup.connections` (opened on demand; WAL lets it run beside the writer; a connection
/// that saw a storage fault is closed, the next read opens another). On an exit message
/// it drops the reads not yet begun, waits for those running, closes the tenant's idle
/// connections (a job), then quits. Counts into `stats->readers`.
reader_actor spawn_tenant_reader(caf::actor_system& sys, reader_setup setup,
                                 std::shared_ptr<tenant_stats> stats);

} // namespace ebuse
