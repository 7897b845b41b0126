// The directory the tenant registry publishes for HTTP threads (internal to actors/).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "actors/registry.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

/// A configured tenant and, while it runs, its actors. Slots outlive reloads that keep
/// the tenant, so a key rotation does not restart it.
struct tenant_slot {
  std::string name;
  std::string db_path;
  std::string database_url; ///< PostgreSQL; empty: SQLite at db_path

  std::mutex mtx;
  std::shared_ptr<tenant> running;                  ///< guarded by mtx
  std::chrono::steady_clock::time_point last_used;  ///< guarded by mtx
  bool retired = false;                             ///< removed by a reload; guarded
  /// Removed while running: counted as closing from the reload on; guarded by mtx.
  bool counted_closing = false;

  /// The running tenant, marking it used; null when it is not running.
  std::shared_ptr<tenant> use() {
    std::lock_guard<std::mutex> guard{mtx};
    if (running)
      last_used = std::chrono::steady_clock::now();
    return running;
  }
};

/// An immutable directory: key digests and names to slots.
struct tenant_directory {
  std::unordered_map<std::string, std::shared_ptr<tenant_slot>> by_key;
  std::unordered_set<std::string> admin_keys; ///< digests
  std::vector<std::shared_ptr<tenant_slot>> slots; ///< sorted by name
};

/// What the registry actor and its handles share.
class registry_view {
public:
  /// Reads the current directory (never null after start).
  std::shared_ptr<const tenant_directory> current() const {
    return std::atomic_load(&directory_);
  }

  /// Publishes a new directory.
  void publish(std::shared_ptr<const tenant_directory> d) {
    std::atomic_store(&directory_, std::move(d));
  }

  /// Notes that a tenant named `name` is stopping: removed by a reload while in use, or
  /// stopped with connections to its file still open (counted: the same name may stop
  /// twice before the first has closed).
  void closing_begins(const std::string& name) {
    std::lock_guard<std::mutex> guard{closing_mtx_};
    ++closing_[name];
  }

  /// Notes that one of them has closed.
  void closing_ends(const std::string& name) {
    std::lock_guard<std::mutex> guard{closing_mtx_};
    auto i = closing_.find(name);
    if (i != closing_.end() && --i->second <= 0)
      closing_.erase(i);
  }

  /// Whether a tenant named `name` is stopping.
  bool is_closing(const std::string& name) const {
    std::lock_guard<std::mutex> guard{closing_mtx_};
    return closing_.count(name) > 0;
  }

  registry_actor actor;
  registry_stats stats;
  registry_options opts;
  /// Where tenants are opened (start jobs).
  std::unique_ptr<worker_pool> starts;
  /// Set by stop_all: a start finishing afterwards stops its tenant at once. Shared with
  /// the start jobs, which must not hold the view (its last holder would join the pool
  /// from one of the pool's own threads).
  std::shared_ptr<std::atomic<bool>> stopping = std::make_shared<std::atomic<bool>>(false);
  /// Counted by the tenants themselves (tenant_stats::mark_fault).
  std::shared_ptr<std::atomic<int64_t>> unhealthy = std::make_shared<std::atomic<int64_t>>(0);

private:
  std::shared_ptr<const tenant_directory> directory_;
  mutable std::mutex closing_mtx_;
  std::unordered_map<std::string, int> closing_;
};

/// Builds a directory for `specs`, reusing the slots of `old` for tenants that keep their
/// name and file; slots of `old` left out are returned in `dropped`.
std::shared_ptr<const tenant_directory>
build_directory(const std::vector<tenant_spec>& specs, const std::vector<key_digest>& admins,
                const tenant_directory* old, std::vector<std::shared_ptr<tenant_slot>>& dropped);

/// Spawns the registry actor over `view`.
registry_actor spawn_registry_actor(caf::actor_system& sys, std::shared_ptr<registry_view> view);

} // namespace ebuse
