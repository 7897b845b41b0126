// Pure request/response codec: wire JSON to commands and results back to wire JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "storage/event_store.hpp"

namespace ebuse {

/// Largest batch accepted by POST /events/batch.
constexpr std::size_t max_batch_events = 1000;

/// Events returned by GET /events without `to` (as the original).
constexpr int64_t default_load_limit = 10000;

/// Parses the body of POST /events: a JSON object with a non-empty string `type`, a
/// `data` value (kept verbatim, compacted), an optional RFC 3339 `timestamp` (the
/// append time when omitted or null) and an ignored integer `position`. Keys match
/// case-insensitively and a repeated key wins, as in Go. Errors are errc::invalid_json
/// or errc::invalid_event with a message for the client.
caf::expected<new_event> parse_event(std::string_view body);

/// Parses one line of an export (GET /events/export): an event object as POST /events
/// takes it, with a required `position` of at least 1, kept on import.
caf::expected<positioned_event> parse_exported_event(std::string_view line);

/// Parses the body of POST /events/batch: a JSON array of 1..max events.
caf::expected<std::vector<new_event>> parse_batch(std::string_view body,
                                                   std::size_t max = max_batch_events);

/// Parses `{"position":N}` (N a non-negative integer) for a subscription save.
caf::expected<int64_t> parse_position_body(std::string_view body);

/// Longest subscription id. The original took ids as long as its request line (up to
/// Go's 1 MiB header limit); this server reads request lines up to 8 KiB, so no longer
/// id can arrive anyway, and the bound holds whatever the HTTP layer becomes.
constexpr std::size_t max_subscription_id_bytes = 8192;

/// Checks a URL-decoded subscription id: 1..max_subscription_id_bytes bytes of UTF-8,
/// not `.` or `..`, without `/` or control characters.
caf::error check_subscription_id(std::string_view id);

/// Parses the query parameter `name` holding `text` as a non-negative int64
/// (`allow_minus_one`: -1 is accepted too, meaning "no bound").
caf::expected<int64_t> parse_position_param(const char* name, std::string_view text,
                                            bool allow_minus_one);

/// The page size of GET /events/stream: `batch_size` when 1..5000, else 1000.
int64_t stream_batch_size(std::string_view text);

/// `{"position":N}` and a newline, as Go's json.Encoder writes it.
std::string render_position(int64_t position);

/// The stored event echoed by POST /events.
std::string render_saved_event(const new_event& ev, int64_t position);

/// The echo of POST /events rendered before the write, so that the event itself goes to
/// the writer and no copy of it is kept for the reply: only the position is filled in
/// afterwards, in place (room for it is reserved).
class saved_event_echo {
public:
  explicit saved_event_echo(const new_event& ev);

  /// The reply body with `position`; call once.
  std::string take(int64_t position);

  /// The RFC 3339 timestamp of the reply.
  std::string_view timestamp() const;

  /// Replaces the reply's timestamp with `rfc3339` (before take).
  void set_timestamp(std::string_view rfc3339);

private:
  std::string text_; ///< with a one-character placeholder for the position
};

/// The reply of GET /tenants: `{"count":N,"tenants":[...]}` (keys in Go's map order).
std::string render_tenants(const std::vector<std::string>& names);

/// The reply of POST /events/batch (keys in Go's map order).
std::string render_batch_reply(std::size_t saved, int64_t first, int64_t last);

} // namespace ebuse
