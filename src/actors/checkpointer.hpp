// The checkpointer: moves WAL checkpoints off the tenant writers' commit path.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"

namespace ebuse {

class worker_pool;

/// How the checkpointer runs.
struct checkpointer_options {
  /// Connections unused this long are closed.
  std::chrono::milliseconds idle_close = std::chrono::minutes(1);
  /// The storage pool the checkpoints run on; null: default_storage_pool().
  std::shared_ptr<worker_pool> pool;
  /// Checkpoints in flight at most, over all files: fewer than the pool's threads, so
  /// that syncs never hold every storage worker while commits wait.
  std::size_t max_running = 2;
  /// Called in the job, with the file's connection open, just before each checkpoint
  /// (tests hold a checkpoint there).
  std::function<void(const std::string& path)> before_checkpoint;
};

/// Spawns the process-wide checkpointer: one cooperative actor (however many tenants)
/// holding a read-write connection per tenant file that it uses for nothing but
/// checkpoints, each run as a job on the storage pool, at most one per file at a time.
/// A checkpoint copies WAL frames into the database and syncs both files; done here,
/// writers keep committing (WAL mode lets a checkpoint run beside a writer) and no
/// append waits for a sync. Connections unused for `idle_close` are closed (a job).
/// `(release_atom, path)` drops the file's checkpoints not yet begun and answers once
/// its connection is closed, after a checkpoint running on it has ended.
checkpointer_actor spawn_checkpointer(caf::actor_system& sys, checkpointer_options opts = {});

/// As above, with connections closed after `idle_close` unused.
checkpointer_actor spawn_checkpointer(caf::actor_system& sys,
                                      std::chrono::milliseconds idle_close);

} // namespace ebuse
