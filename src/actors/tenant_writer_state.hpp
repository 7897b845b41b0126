// The tenant writer's state and the upkeep it runs between groups (internal to actors/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/messages.hpp"
#include "actors/stream_ops.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer.hpp"
#include "storage/log_writer.hpp"
#include "storage/write_group.hpp"

namespace ebuse::writer {


/// One write waiting for the next commit: an append, a subscription save or a stream
/// operation.
struct pending_op {
  std::unique_ptr<stream_op> stream; ///< set for a stream operation
  append_request append;             ///< an append: its events and checks
  reply_to<append_result> reply;     ///< an append answered with its positions
  reply_to<append_outcome> outcome;  ///< an append answered with its whole outcome
  append_outcome result;             ///< an append, once its group committed
  bool is_subscription = false;
  subscription_write sub;
  caf::typed_response_promise<int64_t> sub_promise;
  uint64_t queued_events = 0; ///< counted into the queue by tenant::append
  uint64_t queued_bytes = 0;
};

struct writer_state {
  std::shared_ptr<log_writer> store;
  std::unique_ptr<stream_writer> streams; ///< null if its statements could not be prepared
  std::shared_ptr<tenant_stats> stats;
  writer_options opts;
  std::vector<pending_op> pending;
  std::size_t pending_events = 0;
  bool flush_scheduled = false;
  write_group group; ///< the group being applied, reused across groups
  bool checkpoint_requested = false; ///< a background pass was asked for this WAL
  int64_t next_own_checkpoint = 0;   ///< WAL size at which the writer checkpoints itself
  bool sweep_scheduled = false;      ///< a sweep_atom is on its way

  static inline const char* name = "tenant_writer";
};

using writer_self = writer_actor::stateful_pointer<writer_state>;

/// The WAL size at which the writer checkpoints itself when the WAL is small.
int64_t own_checkpoint_base(const writer_state& st);

/// After a commit was answered: the WAL's upkeep (see tenant_writer_upkeep.cpp).
void after_commit(writer_state& st);

/// Deletes expired idempotency keys and schedules the next sweep.
void sweep_keys(writer_self self);

} // namespace ebuse::writer
