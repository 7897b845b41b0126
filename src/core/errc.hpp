// The domain error codes of ebuse, shared by storage, actors and HTTP.
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace ebuse {

/// Every failure of the domain: invalid input, and what storage and actors report. The
/// HTTP layer maps each to exactly one status and a stable snake_case code (see
/// http/errors.hpp), beside its own refusals (http_errc).
enum class errc : uint8_t {
  none = 0,
  invalid_json,         ///< body is not valid JSON
  invalid_event,        ///< event object malformed (type, data, timestamp)
  invalid_batch,        ///< batch empty, not an array or too large
  invalid_parameter,    ///< query parameter not an integer / negative
  invalid_subscription, ///< subscription id or position invalid
  tenant_not_empty,     ///< an import into a tenant that already holds events
  backup_in_progress,   ///< a backup of this tenant is already running
  tenant_stopping,      ///< the tenant was removed and is closing its files
  storage_unavailable,  ///< database cannot be opened or used
  storage_busy,         ///< database locked by another process beyond busy_timeout
  storage_full,         ///< SQLITE_FULL: disk or max_page_count reached
  backup_no_space,      ///< too little free disk space for a backup's temporary copy
  timeout,              ///< no reply in time; a write may still have committed
  overloaded,           ///< a queue is full; nothing of the request was written
  cancelled,            ///< a long operation (a backup's copy) was asked to stop
  not_supported,        ///< the tenant's storage does not offer this (HTTP 501)
  internal,             ///< unexpected failure
};

/// Stable snake_case name of `x` (the `code` field of error bodies).
const char* to_code(errc x) noexcept;

/// Renders `x` for CAF's error printing.
std::string to_string(errc x);

/// Builds a CAF error carrying `x` and a human-readable message.
caf::error make_error(errc x, std::string message);

/// Builds a CAF error that also says after how many seconds a retry may succeed (the
/// `Retry-After` of a 503).
caf::error make_error(errc x, std::string message, int64_t retry_after_s);

/// The retry delay attached by make_error (0 if none).
int64_t retry_after_of(const caf::error& err) noexcept;

/// Extracts the errc of `err` (errc::internal for a foreign category).
errc code_of(const caf::error& err) noexcept;

/// Extracts the human-readable message attached by make_error (empty if none).
std::string message_of(const caf::error& err);

} // namespace ebuse

CAF_ERROR_CODE_ENUM(ebuse::errc, "ebuse")
