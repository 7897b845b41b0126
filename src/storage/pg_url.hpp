// DATABASE_URL validation and redaction for PostgreSQL connection URLs.
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace ebuse::pg {

/// Validates a DATABASE_URL: a `postgresql://` or `postgres://` URI that libpq accepts
/// (host, port, database, user, password, query parameters such as `host=/socket/dir` or
/// `sslmode`). Returns it unchanged, or invalid_parameter with a reason that never
/// repeats the password.
caf::expected<std::string> validate_database_url(std::string_view url);

/// The URL with the password (in the user part or a `password=` parameter) replaced by
/// `***`, for logs and error messages.
std::string redact_url(std::string_view url);

} // namespace ebuse::pg
