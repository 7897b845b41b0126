// The registry actor's state and the functions its files share (internal to actors/).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/messages.hpp"
#include "actors/registry_view.hpp"

namespace ebuse::reg {


/// A stopped tenant whose actors still hold connections to its file.
struct closing_tenant {
  std::string name;
  std::string db_path;
  std::size_t pending = 0; ///< file owners not yet down
};

/// Starts of one tenant: the job in flight and who waits for it, or the back-off after
/// failures.
struct start_entry {
  bool running = false; ///< a start job is in flight
  std::vector<reply_to<std::shared_ptr<tenant>>> waiters;
  int failures = 0; ///< in a row
  std::chrono::steady_clock::time_point retry_at;
  caf::error last_error;
};

/// A request for a tenant whose previous instance is still closing its file.
struct parked_acquire {
  acquire_cmd cmd;
  std::chrono::steady_clock::time_point deadline;
};

struct registry_state {
  std::shared_ptr<registry_view> view;
  std::map<std::shared_ptr<tenant_slot>, start_entry> starts;
  /// By tenant name: resumed when its previous instance has closed.
  std::map<std::string, std::vector<parked_acquire>> parked;
  std::vector<std::shared_ptr<tenant_slot>> retired; ///< removed, maybe still running
  std::map<caf::actor_addr, std::shared_ptr<tenant_slot>> by_writer;
  /// File owners of stopped tenants, until their down message.
  std::map<caf::actor_addr, std::shared_ptr<closing_tenant>> closing;
  std::chrono::steady_clock::time_point next_probe; ///< of the running tenants' storage
  /// Tenants holding their files: running, starting, or stopped and still closing them
  /// (what the open-tenant budget counts).
  int64_t open = 0;
  std::size_t closing_count = 0; ///< stopped tenants still closing their files
  /// Requests for tenants that cannot start until a place under the budget frees up.
  std::deque<parked_acquire> over_budget;
  bool budget_tick_scheduled = false;

  static inline const char* name = "tenant_registry";
};

using registry_self = registry_actor::stateful_pointer<registry_state>;

/// Tells the registry's on_event hook.
void notify(registry_state& st, std::string_view event, std::string_view tenant,
            std::string_view detail = {});

/// Watches the file owners of stopped tenant `t` until its file is closed.
void watch_close(registry_self self, const tenant& t, bool writer_down, bool counted);

/// Answers `cmd` with the running tenant, starts it, parks it behind a closing
/// instance, or refuses it during a start's back-off.
void acquire(registry_self self, acquire_cmd& cmd);

/// A start job finished.
void start_done(registry_self self, start_done_cmd& msg);

/// The previous instance of `entry.name` has closed its file.
void closed(registry_self self, const closing_tenant& entry);

/// Stops the tenant of `slot` if nobody holds it (or always, with `force`); unless `self`
/// is null (shutdown), watches it until its file is closed. False if it was not stopped.
bool stop_if_unused(registry_self self, registry_state& st, tenant_slot& slot, bool force,
                    std::string_view why, bool writer_down = false);

/// Whether starting one more tenant would exceed the open-tenant budget; if so, parks
/// `cmd` until a place frees up and stops idle tenants to free one (registry_budget.cpp).
bool park_for_room(registry_self self, acquire_cmd& cmd);

/// A tenant let go of its files (closed, or its start failed): parked requests go on.
void room_freed(registry_self self);

/// Retries parked requests: stops tenants that have become idle, refuses those that
/// waited past their deadline.
void budget_tick(registry_self self);

/// Answers parked requests that waited past their deadline.
void expire_parked(registry_state& st, std::chrono::steady_clock::time_point now);

} // namespace ebuse::reg
