// A tenant snapshot copied as a job on the backup pool while the requester waits for it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/reply.hpp"
#include "storage/backup.hpp"

namespace ebuse {

class worker_pool;

/// Threads of the process-wide backup pool. A copy blocks on SQLite and the disk for as
/// long as the file takes, so it runs there, never on the storage pool (two long copies
/// would hold most of its workers while commits wait) nor on the thread of a request or
/// of an actor; more backups at once wait for a thread, in order.
constexpr std::size_t backup_workers = 2;

/// A queued or running snapshot_database() on the backup pool.
class backup_job {
public:
  backup_job(std::shared_ptr<std::atomic<bool>> cancel,
             reply_future<std::shared_ptr<snapshot_file>> result)
    : cancel_(std::move(cancel)), result_(std::move(result)) {
  }

  /// The finished copy; errc::timeout while it is still running after `timeout` (wait
  /// again), or the copy's error.
  caf::expected<std::shared_ptr<snapshot_file>> wait(std::chrono::nanoseconds timeout) {
    return await(result_, timeout);
  }

  /// Asks the copy to stop at its next step (it then removes its temporary file), or
  /// not to start if it still waits for a thread.
  void cancel() noexcept {
    cancel_->store(true);
  }

private:
  std::shared_ptr<std::atomic<bool>> cancel_;
  reply_future<std::shared_ptr<snapshot_file>> result_;
};

/// Starts a snapshot of the database at `db_path` into a temporary file beside it,
/// after removing temporaries a killed process left there. The caller must make sure
/// that no other backup of the same file runs meanwhile (tenant::try_begin_backup).
backup_job start_backup_job(caf::actor_system& sys, const std::string& db_path,
                            const snapshot_options& opts);

/// As above, on `pool` instead of the backup pool (tests).
backup_job start_backup_job(worker_pool& pool, const std::string& db_path,
                            const snapshot_options& opts);

} // namespace ebuse
