// The open-tenant budget: how many tenants may hold their files, and which idle ones to stop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ebuse {

/// A running tenant that nobody holds (no request, waiter, follower or stream): it may be
/// stopped to make room.
struct idle_tenant {
  std::chrono::steady_clock::time_point last_used;
  std::size_t index = 0; ///< the caller's reference to it
};

/// The indexes of the `count` least recently used of `candidates` (all of them when
/// there are fewer), oldest first. Ties keep the candidates' order.
std::vector<std::size_t> least_recently_used(std::vector<idle_tenant> candidates,
                                             std::size_t count);

/// How many more tenants to stop: requests for `waiting` distinct tenants need room,
/// `closing` stopped tenants are still closing their files (each frees one place), and
/// `open` tenants hold files of at most `limit`.
std::size_t stops_needed(int64_t open, int64_t limit, std::size_t waiting,
                         std::size_t closing);

} // namespace ebuse
