// The checkpointer: moves WAL checkpoints off the tenant writers' commit path.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

namespace ebuse {

struct tenant_stats;

/// Sets a tenant's `checkpoint_pending` while it exists. The writer hands one to the
/// checkpointer with each request; whatever becomes of the message (done, failed, or
/// dropped by a checkpointer that is gone), the flag is cleared when the ticket goes, so
/// the writer never waits on a pass that will not come.
class checkpoint_ticket {
public:
  explicit checkpoint_ticket(std::shared_ptr<tenant_stats> stats);
  ~checkpoint_ticket();
  checkpoint_ticket(const checkpoint_ticket&) = delete;
  checkpoint_ticket& operator=(const checkpoint_ticket&) = delete;

  tenant_stats& stats() const noexcept {
    return *stats_;
  }

private:
  std::shared_ptr<tenant_stats> stats_;
};

/// Asks the checkpointer to checkpoint one tenant's WAL (PASSIVE: copies every frame no
/// reader still needs, without waiting). Sent by the tenant writer when the WAL passed
/// its threshold.
struct checkpoint_cmd {
  std::string db_path;
  std::shared_ptr<checkpoint_ticket> ticket;
};

/// Spawns the process-wide checkpointer: one detached actor (one thread, however many
/// tenants) holding a read-write connection per tenant file that it uses for nothing but
/// checkpoints. A checkpoint copies WAL frames into the database and syncs both files;
/// done here, writers keep committing (WAL mode lets a checkpoint run beside a writer)
/// and no append waits for a sync. Connections unused for `idle_close` are closed.
/// `(release_atom, std::string path) -> bool` closes the connection to `path` at once.
caf::actor spawn_checkpointer(caf::actor_system& sys,
                              std::chrono::milliseconds idle_close = std::chrono::minutes(1));

} // namespace ebuse

#include <caf/allowed_unsafe_message_type.hpp>
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::checkpoint_cmd)
