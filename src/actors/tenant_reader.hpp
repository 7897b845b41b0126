// Tenant readers: read-only connections that serve loads, stream pages and health checks.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "storage/event_store.hpp"

namespace ebuse {

struct tenant_stats;

/// Spawns a detached reader owning one read-only connection to `db_path` (WAL lets it
/// run beside the writer). The connection is opened on first use and reopened after a
/// failure. Handles reader_actor's messages; counts into `stats->readers`. After a
/// page it spins for `spin` (see spin_for_mail()).
reader_actor spawn_tenant_reader(caf::actor_system& sys, std::string db_path,
                                 store_options opts, std::shared_ptr<tenant_stats> stats,
                                 std::chrono::microseconds spin);

} // namespace ebuse
