// The process's descriptor limit: raised from its soft value to the hard one at start.
#pragma once

#include <cstddef>
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

/// Descriptors an open SQLite tenant may hold: its writer's database, WAL and
/// shared-memory files, and the checkpointer's database and WAL (the shared memory is
/// shared within the process).
constexpr int64_t descriptors_per_tenant = 5;

/// The open-tenant budget a descriptor limit allows: what is left after the pooled
/// read-only connections (database and WAL each), client connections (a quarter of the
/// limit, at least 1024) and a margin for logs, sockets and the PostgreSQL connections,
/// divided by descriptors_per_tenant; at least 16.
int64_t open_tenant_budget(int64_t descriptor_limit, std::size_t reader_connections) noexcept;

} // namespace ebuse
