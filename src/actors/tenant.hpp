// A tenant: its writer, reader pool and subscription actor, started and stopped together.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/messages.hpp"
#include "actors/stream_signal.hpp"
#include "actors/tenant_stats.hpp"
#include "actors/tenant_writer.hpp"
#include "storage/event_store.hpp"

namespace ebuse {

class pg_reader_pool;
class reader_pool;

/// How to run one tenant.
struct tenant_options {
  std::string name;      ///< validated tenant name
  std::string db_path;   ///< its SQLite file
  /// Its PostgreSQL database (STORAGE=postgres); empty: the SQLite file db_path.
  std::string database_url;
  /// The node's PostgreSQL readers, shared by every tenant (set with database_url).
  std::shared_ptr<pg_reader_pool> pg_readers;
  /// The threads the node's PostgreSQL reads run on, shared by every tenant (set with
  /// pg_readers; one per reader connection).
  std::shared_ptr<worker_pool> pg_jobs;
  store_options store;   ///< pragmas
  /// Reads of the tenant in flight at most (page jobs on SQLite and on PostgreSQL).
  std::size_t readers = 3;
  /// The process-wide read-only SQLite connections; null: default_reader_pool().
  std::shared_ptr<reader_pool> reader_connections;
  writer_options writer; ///< group-commit tunables
  /// Where the tenant counts itself while its storage is faulty (tenant_stats::unhealthy).
  std::shared_ptr<std::atomic<int64_t>> unhealthy;
};

/// Handles to a running tenant's actors. Thread-safe: HTTP threads share it.
class tenant {
public:
  /// Opens (creating and migrating) the database, loads the subscription positions and
  /// spawns the actors. Fails when the database cannot be opened.
  static caf::expected<std::shared_ptr<tenant>> start(caf::actor_system& sys,
                                                      const tenant_options& opts);

  ~tenant();

  /// The writer (appends, subscription saves).
  const writer_actor& writer() const noexcept {
    return writer_;
  }

  /// The subscription-position actor.
  const subscription_actor& subscriptions() const noexcept {
    return subscriptions_;
  }

  /// Appends `events` (all or nothing) through the writer and waits at most `timeout`
  /// for the commit. Refused with errc::overloaded, nothing written, when the writer's
  /// queue is beyond its bounds (writer_options::queue_events, queue_bytes); an append
  /// whose wait timed out is dropped unwritten if the writer has not begun its group yet
  /// (errc::timeout then means it may or may not have been written).
  caf::expected<append_result> append(std::vector<new_event> events,
                                      std::chrono::nanoseconds timeout);

  /// As append(), with the checks of `req` (expected head, idempotency key) applied by
  /// the writer in the order of its write queue: answers what became of it (applied,
  /// conflict, replayed, key_reused).
  caf::expected<append_outcome> append(append_request req, std::chrono::nanoseconds timeout);

  /// The next reader, round robin.
  const reader_actor& reader() noexcept;

  /// Wake-ups of readers waiting on the tenant's streams.
  stream_signal& streams_signal() noexcept {
    return *signal_;
  }

  /// Another node committed up to `head` (PostgreSQL): raises the published head and,
  /// when it rose, wakes the readers waiting on the event log.
  void observe_head(int64_t head);

  /// Lock-free figures (committed head, commits).
  const tenant_stats& stats() const noexcept {
    return *stats_;
  }

  /// The tenant's name.
  const std::string& name() const noexcept {
    return name_;
  }

  /// Its database file.
  const std::string& db_path() const noexcept {
    return db_path_;
  }

  /// Whether it is stored in PostgreSQL (else in its SQLite file).
  bool on_postgres() const noexcept {
    return on_postgres_;
  }

  /// The actors holding a connection to the tenant's file: the writer and the readers.
  std::vector<caf::actor_addr> file_owners() const;

  /// Marks a backup of this tenant as running; false when one already is.
  bool try_begin_backup() noexcept {
    return !backup_running_.exchange(true);
  }

  /// Ends what try_begin_backup began.
  void end_backup() noexcept {
    backup_running_.store(false);
  }

  /// Whether stop() was called.
  bool stopping() const noexcept {
    return stopped_.load();
  }

  /// Asks every actor to stop; the writer commits what is pending and checkpoints.
  /// Idempotent.
  void stop();

private:
  tenant() = default;

  // start() for a tenant in PostgreSQL (tenant_pg.cpp).
  static caf::expected<std::shared_ptr<tenant>> start_pg(caf::actor_system& sys,
                                                         const tenant_options& opts);

  // Counts `cmd` into the writer's queue, or refuses it (errc::overloaded).
  caf::error admit(append_cmd& cmd);

  std::string name_;
  std::string db_path_;
  bool on_postgres_ = false;
  std::shared_ptr<tenant_stats> stats_;
  std::shared_ptr<stream_signal> signal_;
  writer_actor writer_;
  std::shared_ptr<writer_front> writer_front_; ///< appends, without a message to the actor
  subscription_actor subscriptions_;
  std::vector<reader_actor> readers_;
  std::atomic<std::size_t> next_reader_{0};
  uint64_t queue_events_ = 0;
  uint64_t queue_bytes_ = 0;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> backup_running_{false};
};

} // namespace ebuse
