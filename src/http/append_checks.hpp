// The optional checks of an append (SPEC §11): expected_position and Idempotency-Key.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>
#include <httplib.h>

#include "storage/write_group.hpp"

namespace ebuse {

/// Renders the success body of an append from the positions it received.
using append_render = std::function<std::string(const append_result&)>;

/// Rebuilds the body of a replayed append from the compact response stored with its key
/// (see compact_response) and the request being answered, whose body is the same.
using append_replay =
  std::function<std::string(const append_result& positions, std::string_view timestamp)>;

/// The response stored with an Idempotency-Key: `=FIRST LAST` and, for a single event,
/// ` TIMESTAMP` (the RFC 3339 text of its echo, which a retry without a timestamp would
/// not reproduce). Everything else of the response follows from the request body, which
/// a replay has byte for byte (its SHA-256 matched), so the key's row stays small.
std::string compact_response(const append_result& positions, std::string_view timestamp = {});

/// The body to replay for `stored`: rebuilt by `replay` from a compact response, or the
/// text itself when it was stored in full (a body starts with `{`).
std::string replay_response(const std::string& stored, const append_replay& replay);

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
/// with it is `store`'s (status 200; a compact_response).
append_request checked_request(std::vector<new_event> events, append_checks&& checks,
                               append_render store);

/// Answers a checked append: the body of `render` (applied), the stored response rebuilt
/// by `replay` with `Idempotent-Replayed: true` (replayed), 409 position_conflict with
/// the head, 422 idempotency_key_reuse, or the error.
void send_outcome(const httplib::Request& req, httplib::Response& res,
                  const caf::expected<append_outcome>& out, const append_render& render,
                  const append_replay& replay);

} // namespace ebuse
