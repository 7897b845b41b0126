// The backup copy as a short-lived detached actor: it runs the copy, answers, and ends.
#include "actors/backup_job.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace ebuse {

namespace {

caf::behavior backup_impl(caf::event_based_actor* self, std::string db_path,
                          snapshot_options opts, std::shared_ptr<std::atomic<bool>> cancel,
                          reply_to<std::shared_ptr<snapshot_file>> reply) {
  remove_stale_backups(db_path);
  auto res = snapshot_database(db_path, backup_temp_path(db_path), opts, *cancel);
  if (res)
    deliver<std::shared_ptr<snapshot_file>>(reply,
                                            std::make_shared<snapshot_file>(std::move(*res)));
  else
    deliver<std::shared_ptr<snapshot_file>>(reply, std::move(res.error()));
  self->quit();
  return {};
}

} // namespace

backup_job start_backup_job(caf::actor_system& sys, const std::string& db_path,
                            const snapshot_options& opts) {
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto [tx, rx] = make_reply<std::shared_ptr<snapshot_file>>();
  sys.spawn<caf::detached>(backup_impl, db_path, opts, cancel, std::move(tx));
  return backup_job{std::move(cancel), std::move(rx)};
}

} // namespace ebuse
