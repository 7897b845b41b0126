// The backup copy as a job on a small pool of its own: it runs the copy and answers.
#include "actors/backup_job.hpp"

#include <caf/actor_system.hpp>

#include "core/errc.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

namespace {

worker_pool& backup_pool() {
  static worker_pool pool{backup_workers};
  return pool;
}

void run_backup(const std::string& db_path, const snapshot_options& opts,
                const std::atomic<bool>& cancel,
                const reply_to<std::shared_ptr<snapshot_file>>& reply) {
  if (cancel.load()) {
    // Cancelled while it waited for a thread: nothing was begun.
    deliver<std::shared_ptr<snapshot_file>>(reply,
                                            make_error(errc::cancelled, "backup cancelled"));
    return;
  }
  remove_stale_backups(db_path);
  auto res = snapshot_database(db_path, backup_temp_path(db_path), opts, cancel);
  if (res)
    deliver<std::shared_ptr<snapshot_file>>(reply,
                                            std::make_shared<snapshot_file>(std::move(*res)));
  else
    deliver<std::shared_ptr<snapshot_file>>(reply, std::move(res.error()));
}

} // namespace

backup_job start_backup_job(caf::actor_system&, const std::string& db_path,
                            const snapshot_options& opts) {
  return start_backup_job(backup_pool(), db_path, opts);
}

backup_job start_backup_job(worker_pool& pool, const std::string& db_path,
                            const snapshot_options& opts) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto [tx, rx] = make_reply<std::shared_ptr<snapshot_file>>();
  reply_to<std::shared_ptr<snapshot_file>> reply = std::move(tx);
  auto job = [db_path, opts, cancel, reply] { run_backup(db_path, opts, *cancel, reply); };
  if (!pool.submit(job))
    job(); // the pool has stopped (process exit): the copy runs here
  return backup_job{std::move(cancel), std::move(rx)};
}

} // namespace ebuse
