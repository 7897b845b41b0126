// The optional checks of an append (SPEC §11): expected_position and Idempotency-Key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <caf/expected.hpp>
#include <httplib.h>

#include "storage/write_group.hpp"

namespace ebuse {

/// Renders the success body of an append from the positions it received.
using append_render = std::function<std::string(const append_result&)>;

/// What a client asked of an append beside its events.
struct append_checks {
  int64_t expected_head = -1;     ///< `expected_position`; -1: none
  std::optional<std::string> key; ///< `Idempotency-Key`
  std::string body_sha256;        ///< with a key: SHA-256 of the body (32 raw bytes)

  /// Whether the append needs the checked path.
  bool any() const noexcept {
    return expected_head >= 0 || key.has_value();
  }
};

/// Reads `expected_position` (a non-negative integer) and `Idempotency-Key` (1..255
/// visible ASCII) from `req`, hashing `body` when a key is present. On bad input writes
/// the 400 into `res` and returns false: nothing is to be written.
bool parse_append_checks(const httplib::Request& req, const std::string& body,
                         httplib::Response& res, append_checks& out);

/// Builds the append_request of `events` under `checks`; with a key, the response stored
/// with it is `render`'s (status 200).
append_request checked_request(std::vector<new_event> events, append_checks&& checks,
                               append_render render);

/// Answers a checked append: the body of `render` (applied), the stored response with
/// `Idempotent-Replayed: true` (replayed), 409 position_conflict with the head, 422
/// idempotency_key_reuse, or the error.
void send_outcome(const httplib::Request& req, httplib::Response& res,
                  const caf::expected<append_outcome>& out, const append_render& render);

} // namespace ebuse
