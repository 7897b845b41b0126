// The checkpointer: moves WAL checkpoints off the tenant writers' commit path.
#pragma once

#include <chrono>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"

namespace ebuse {

/// Spawns the process-wide checkpointer: one detached actor (one thread, however many
/// tenants) holding a read-write connection per tenant file that it uses for nothing but
/// checkpoints. A checkpoint copies WAL frames into the database and syncs both files;
/// done here, writers keep committing (WAL mode lets a checkpoint run beside a writer)
/// and no append waits for a sync. Connections unused for `idle_close` are closed.
/// `(release_atom, path)` closes the connection to `path` at once.
checkpointer_actor
spawn_checkpointer(caf::actor_system& sys,
                   std::chrono::milliseconds idle_close = std::chrono::minutes(1));

} // namespace ebuse
