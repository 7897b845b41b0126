// The process's descriptor limit: raised from its soft value to the hard one at start.
#pragma once

#include <cstdint>
#include <string>

namespace ebuse {

/// The descriptor limit (RLIMIT_NOFILE) before and after raise_fd_limit().
struct fd_limit {
  int64_t before = 0; ///< soft limit found at start
  int64_t now = 0;    ///< soft limit in force after the call
  int64_t hard = 0;   ///< hard limit (the ceiling an unprivileged process may raise to)
  std::string error;  ///< why the limit could not be read or raised; empty on success
};

/// Raises the soft descriptor limit to the hard one: every open tenant holds several
/// descriptors (database, WAL, shared memory, per connection), and every client
/// connection one, so the soft default (often 1024) is far below what a multi-tenant
/// node needs, while the hard limit is what the operator allowed. Never lowers it.
fd_limit raise_fd_limit() noexcept;

} // namespace ebuse
