// The subscription-position actor: consumer checkpoints in memory, persisted via the writer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"

namespace ebuse {

class pg_reader_pool;
class worker_pool;
struct tenant_stats;

/// The listing of sub_list_cmd from every stored position: the total, and the `limit`
/// furthest behind (lowest position first, then by id).
subscription_list furthest_behind(std::vector<std::pair<std::string, int64_t>> positions,
                                  std::size_t limit);

/// Spawns the (cooperative, never blocking) actor that keeps a tenant's subscription
/// positions in memory, starting from `initial`. Reads are answered from memory; a save
/// goes through `writer` and is applied to memory, then acknowledged, only after it
/// committed, so a reader never sees a position that is not durable.
subscription_actor spawn_subscription_actor(caf::actor_system& sys, writer_actor writer,
                                            std::unordered_map<std::string, int64_t> initial,
                                            std::shared_ptr<tenant_stats> stats);

/// Spawns the subscription actor of tenant `tenant` on PostgreSQL, where other nodes
/// may save positions too: a cooperative actor that answers every read from the
/// database in a job on `jobs` (with a connection borrowed from `pool`) and saves
/// through `writer`.
subscription_actor spawn_pg_subscription_actor(caf::actor_system& sys, writer_actor writer,
                                               std::shared_ptr<pg_reader_pool> pool,
                                               std::shared_ptr<worker_pool> jobs,
                                               std::string tenant,
                                               std::shared_ptr<tenant_stats> stats);

} // namespace ebuse
