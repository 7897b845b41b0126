// Every command and reply the actors exchange, and the typed handle of each actor: what
// an actor accepts is written here once, and a message it does not accept does not compile.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/reply.hpp"
#include "actors/type_ids.hpp"
#include "core/gcra.hpp"
#include "core/key_digest.hpp"
#include "storage/event_store.hpp"
#include "storage/write_group.hpp"
#include "streams/types.hpp"

namespace ebuse {

class tenant;
struct tenant_slot;
struct tenant_spec;
struct tenant_stats;

// -- tenant writer ----------------------------------------------------------------------

/// Append events (one, or a batch written all-or-nothing) through the tenant writer.
/// Answered after COMMIT succeeded, or with the error that prevented it.
struct append_cmd {
  std::vector<new_event> events;
  reply_to<append_result> reply;
  /// What tenant::append counted into the writer's queue for it; the writer takes it
  /// out again once the append is answered or dropped.
  uint64_t queued_events = 0;
  uint64_t queued_bytes = 0;
  /// Applied only if the head is this when the writer reaches it (-1: any).
  int64_t expected_head = -1;
  /// The append's idempotency key, stored with its response.
  std::optional<idempotency_claim> idempotency;
  /// When set, answered with the whole outcome (conflict, replay, ...) instead of `reply`.
  reply_to<append_outcome> outcome;
};

/// Import events with their positions through the tenant writer, in one transaction,
/// if the committed head is still `expected_head` (see store_writer::import_events).
/// Events waiting for the next group commit are committed first.
struct import_cmd {
  std::vector<positioned_event> events;
  int64_t expected_head = 0;
  reply_to<append_result> reply;
};

/// DELETE of a stream.
struct stream_delete {
  std::string path;
};

/// A Durable Streams write through the tenant writer: applied inside the transaction of
/// its group, with the other pending writes, and answered after COMMIT (protocol
/// refusals are results, storage faults errors).
struct stream_write_cmd {
  std::variant<streams::create_request, streams::append_request, stream_delete> op;
  reply_to<streams::write_result> reply;
};

/// A read of stream `stream_id` at `at_ms`, for its sliding TTL; fire and forget.
struct stream_touch_cmd {
  int64_t stream_id = 0;
  int64_t at_ms = 0;
};

/// The tenant writer: appends, imports and stream writes; `(save_atom, id, position)`
/// saves a subscription position, or deletes it when `position` is negative (from the
/// subscription actor, answered after COMMIT); `sweep_atom` its timer for expired
/// streams, `key_sweep_atom` its timer for expired idempotency keys, `job_done_atom` the
/// end of storage steps that need the actor (subscription saves, sweeps, the close).
using writer_actor =
  caf::typed_actor<caf::reacts_to<append_cmd>, caf::reacts_to<import_cmd>,
                   caf::reacts_to<stream_write_cmd>, caf::reacts_to<stream_touch_cmd>,
                   caf::replies_to<save_atom, std::string, int64_t>::with<int64_t>,
                   caf::reacts_to<sweep_atom>, caf::reacts_to<key_sweep_atom>,
                   caf::reacts_to<job_done_atom>>;

// -- tenant readers ---------------------------------------------------------------------

/// Read up to `limit` events with position in [from, to] (to < 0: unbounded) from a
/// tenant reader, rendered as wire JSON.
struct load_cmd {
  int64_t from = 0;
  int64_t to = -1;
  int64_t limit = 0;
  reply_to<event_page> reply;
  /// Render a whole JSON array (`[...]` and a newline) rather than a bare page, so that
  /// a one-page response is sent without copying it again.
  bool as_array = false;
  /// Render one event per line (NDJSON), each followed by a newline.
  bool ndjson = false;
  /// Only events of these types (empty: all).
  type_filter types;
};

/// A page of stored subscriptions ordered by id, read by a tenant reader (the listing
/// shows when each was saved, which the subscription actor does not keep).
struct sub_page_cmd {
  std::string after; ///< ids after this one (bytewise); empty: from the first
  int64_t limit = 100;
  reply_to<std::vector<subscription_entry>> reply;
};

/// Check that a reader can use the database; answers the highest stored position.
struct health_cmd {
  reply_to<int64_t> reply;
};

/// A Durable Streams read (GET or HEAD) from a tenant reader: one snapshot.
struct stream_read_cmd {
  streams::read_request req;
  reply_to<streams::read_result> reply;
};

/// A tenant reader; `job_done_atom` is the end of one of its page jobs.
using reader_actor = caf::typed_actor<caf::reacts_to<load_cmd>, caf::reacts_to<stream_read_cmd>,
                                      caf::reacts_to<health_cmd>, caf::reacts_to<sub_page_cmd>,
                                      caf::reacts_to<job_done_atom>>;

// -- subscription actor -----------------------------------------------------------------

/// Read a subscription position (0 when unknown) from the subscription actor.
struct sub_get_cmd {
  std::string id;
  reply_to<int64_t> reply;
};

/// Save a subscription position; answered (with the position) after it is committed.
struct sub_save_cmd {
  std::string id;
  int64_t position = 0;
  reply_to<int64_t> reply;
  bool remove = false; ///< delete the stored position instead (answered with 0)
};

/// Subscription positions held by a tenant's subscription actor, the furthest behind
/// first.
struct subscription_list {
  std::vector<std::pair<std::string, int64_t>> positions; ///< at most the limit asked
  int64_t total = 0;                                       ///< subscriptions known
};

/// List up to `limit` subscription positions, the lowest (furthest behind) first; from
/// memory, no SQL.
struct sub_list_cmd {
  std::size_t limit = 20;
  reply_to<subscription_list> reply;
};

/// A tenant's subscription actor.
using subscription_actor =
  caf::typed_actor<caf::reacts_to<sub_get_cmd>, caf::reacts_to<sub_save_cmd>,
                   caf::reacts_to<sub_list_cmd>>;

// -- checkpointer -----------------------------------------------------------------------

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

  /// The tenant's figures, where the checkpointer counts the pass.
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

/// The process-wide checkpointer; `reap_atom` is its own timer for idle connections;
/// `(release_atom, path)` closes its connection to the file `path` of a stopped tenant
/// (which may then be replaced, as by a restore) and answers when it is closed;
/// `(job_done_atom, path)` is the end of its job on that file.
using checkpointer_actor =
  caf::typed_actor<caf::reacts_to<checkpoint_cmd>, caf::reacts_to<reap_atom>,
                   caf::replies_to<release_atom, std::string>::with<bool>,
                   caf::reacts_to<job_done_atom, std::string>>;

// -- tenant registry --------------------------------------------------------------------

/// Ask the registry to start the tenant of `slot` (or return it if already running).
/// A null tenant means the slot was removed by a reload meanwhile.
struct acquire_cmd {
  std::shared_ptr<tenant_slot> slot;
  reply_to<std::shared_ptr<tenant>> reply;
};

/// A start job's result, sent to the registry from the worker that opened the tenant:
/// the running tenant, or the error that prevented it.
struct start_done_cmd {
  std::shared_ptr<tenant_slot> slot;
  std::shared_ptr<tenant> started;
  caf::error err;
};

/// Replace the registry's set of tenants; answers how many are configured, once the new
/// set is what requests see.
struct reload_cmd {
  std::shared_ptr<const std::vector<tenant_spec>> tenants;
  std::shared_ptr<const std::vector<key_digest>> admin_keys;
  reply_to<int64_t> reply;
};

/// Stop every tenant; answers how many were stopped.
struct stop_all_cmd {
  reply_to<int64_t> reply;
};

/// The tenant registry; `reap_atom` is its own timer for idle tenants, `budget_atom` for
/// requests waiting for a place under the open-tenant budget.
using registry_actor =
  caf::typed_actor<caf::reacts_to<acquire_cmd>, caf::reacts_to<start_done_cmd>,
                   caf::reacts_to<reload_cmd>, caf::reacts_to<stop_all_cmd>,
                   caf::reacts_to<reap_atom>, caf::reacts_to<budget_atom>>;

// -- rate limiter -----------------------------------------------------------------------

/// What a bucket is keyed on: an address (IPv6 cut to its /64) or a hash of an API key.
struct rate_key {
  uint64_t hi = 0;
  uint64_t lo = 0;

  friend bool operator==(const rate_key& a, const rate_key& b) {
    return a.hi == b.hi && a.lo == b.lo;
  }
};

/// Which table a check is for.
enum class rate_scope : uint8_t { ip = 0, key = 1 };

/// Tells the limiter actor to evict idle buckets now (it also does so periodically).
struct rate_sweep_cmd {};

/// The rate limiter's actor: it sweeps the tables; requests never wait for it.
using limiter_actor = caf::typed_actor<caf::reacts_to<rate_sweep_cmd>>;

} // namespace ebuse

// The commands carry a process-local reply channel or shared state; they are never
// serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::append_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::import_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::stream_write_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::stream_touch_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::load_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_page_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::stream_read_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::health_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_get_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_save_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_list_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::checkpoint_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::acquire_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::start_done_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::reload_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::stop_all_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::rate_sweep_cmd)
