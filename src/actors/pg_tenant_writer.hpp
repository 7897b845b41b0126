// The tenant writer of a tenant stored in PostgreSQL: group commit through pg_writer.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "actors/tenant_writer.hpp"

namespace ebuse {

class pg_writer;
struct tenant_stats;

/// Spawns a detached writer for one tenant on PostgreSQL. It handles writer_actor's
/// messages like the SQLite writer: the appends and subscription saves waiting in its
/// mailbox form one group, applied in one transaction by `store` (which holds the
/// node's connection for this tenant and orders the group after those of other nodes);
/// each requester is answered after COMMIT. After each commit it raises the published
/// head (`stats->head`, never lowering it: a listener may have raised it further from
/// another node's commit) and wakes the event-log readers on `opts.signal`.
/// Durable Streams writes and imports are answered errc::not_supported. A lost
/// connection fails the group with storage_unavailable (503) and marks the tenant
/// faulty; the next group reconnects.
writer_actor spawn_pg_tenant_writer(caf::actor_system& sys, std::unique_ptr<pg_writer> store,
                                    std::shared_ptr<tenant_stats> stats, writer_options opts);

/// Raises `stats.head` to `head` unless it is higher already; true when it rose.
bool raise_head(tenant_stats& stats, int64_t head) noexcept;

} // namespace ebuse
