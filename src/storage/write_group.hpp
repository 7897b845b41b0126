// One group commit's writes (appends, subscription changes) and what became of each.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/event_types.hpp"

namespace ebuse {

/// The idempotency key of an append (SPEC §11): stored with the append's response in
/// the append's transaction.
struct idempotency_claim {
  std::string key;         ///< 1..255 visible ASCII
  std::string body_sha256; ///< 32 raw bytes: SHA-256 of the request body
  int status = 200;        ///< HTTP status of the response to store
  /// Renders the response body to store, from the positions the append received.
  std::function<std::string(const append_result&)> render;
};

/// One append (a single event or a batch): all of its events or none.
struct append_request {
  std::vector<new_event> events;            ///< at least one
  int64_t expected_head = -1;               ///< applied only if the head is this; -1: any
  std::optional<idempotency_claim> idempotency; ///< none: no key
};

/// A change of one subscription's stored position.
struct subscription_write {
  std::string id;
  int64_t position = 0;
  bool remove = false; ///< delete the stored position instead
};

/// The writes of one group commit, applied in one transaction in this order.
struct write_group {
  std::vector<append_request> appends;
  std::vector<subscription_write> subscriptions;
};

/// What became of an append of a group that committed.
enum class append_status : uint8_t {
  applied,    ///< written: `positions`
  conflict,   ///< expected_head differed from `head`: nothing written
  replayed,   ///< the key was used before with the same body: `replay_*` hold its response
  key_reused, ///< the key was used before with another body: nothing written
};

/// The outcome of one append_request.
struct append_outcome {
  append_status status = append_status::applied;
  append_result positions; ///< applied: the positions received
  int64_t head = 0;        ///< conflict: the head the append was checked against
  int replay_status = 0;   ///< replayed: the stored status
  std::string replay_body; ///< replayed: the stored response body
};

/// The outcome of a group that committed: one entry per append, in order.
struct group_outcome {
  std::vector<append_outcome> appends;
  int64_t head = 0; ///< the tenant's head after the commit
};

} // namespace ebuse
