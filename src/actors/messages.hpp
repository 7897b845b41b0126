// Command and reply types exchanged with the tenant actors.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/key_digest.hpp"
#include "actors/metrics.hpp"
#include "actors/reply.hpp"
#include "actors/type_ids.hpp"
#include "storage/event_store.hpp"

namespace ebuse {

class tenant;
struct tenant_slot;
struct tenant_spec;

/// Append events (one, or a batch written all-or-nothing) through the tenant writer.
/// Answered after COMMIT succeeded, or with the error that prevented it.
struct append_cmd {
  std::vector<new_event> events;
  reply_to<append_result> reply;
};

/// Import events with their positions through the tenant writer, in one transaction,
/// if the committed head is still `expected_head` (see store_writer::import_events).
/// Events waiting for the next group commit are committed first.
struct import_cmd {
  std::vector<positioned_event> events;
  int64_t expected_head = 0;
  reply_to<append_result> reply;
};

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
};

/// Check that a reader can use the database; answers the highest stored position.
struct health_cmd {
  reply_to<int64_t> reply;
};

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

/// Ask the registry to start the tenant of `slot` (or return it if already running).
/// A null tenant means the slot was removed by a reload meanwhile.
struct acquire_cmd {
  std::shared_ptr<tenant_slot> slot;
  reply_to<std::shared_ptr<tenant>> reply;
};

/// Replace the registry's set of tenants.
struct reload_cmd {
  std::shared_ptr<const std::vector<tenant_spec>> tenants;
  std::shared_ptr<const std::vector<key_digest>> admin_keys;
};

/// Stop every tenant; answers how many were stopped.
struct stop_all_cmd {
  reply_to<int64_t> reply;
};

} // namespace ebuse

// The commands carry a process-local reply channel and are never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::append_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::import_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_list_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::load_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::health_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_get_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::sub_save_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::acquire_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::reload_cmd)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ebuse::stop_all_cmd)
