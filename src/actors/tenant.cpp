// Starting and stopping the actors of one tenant.
#include "actors/tenant.hpp"

#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/subscription_actor.hpp"
#include "actors/tenant_reader.hpp"

namespace ebuse {

caf::expected<std::shared_ptr<tenant>> tenant::start(caf::actor_system& sys,
                                                     const tenant_options& opts) {
  // The writer creates and migrates the file before any read-only connection opens it.
  auto store = store_writer::open(opts.db_path, opts.store);
  if (!store)
    return std::move(store.error());
  std::unordered_map<std::string, int64_t> positions;
  {
    auto reader = store_reader::open(opts.db_path, opts.store);
    if (!reader)
      return std::move(reader.error());
    auto subs = (*reader)->subscriptions();
    if (!subs)
      return std::move(subs.error());
    for (auto& [id, pos] : *subs)
      positions.emplace(std::move(id), pos);
  }
  std::shared_ptr<tenant> result{new tenant};
  result->name_ = opts.name;
  result->db_path_ = opts.db_path;
  result->stats_ = std::make_shared<tenant_stats>();
  result->stats_->head.store((*store)->head());
  result->signal_ = std::make_shared<stream_signal>();
  auto wopts = opts.writer;
  wopts.signal = result->signal_;
  result->writer_ = spawn_tenant_writer(sys, std::shared_ptr<store_writer>{std::move(*store)},
                                        result->stats_, wopts);
  result->subscriptions_ = spawn_subscription_actor(sys, result->writer_,
                                                    std::move(positions), result->stats_);
  auto readers = opts.readers == 0 ? std::size_t{1} : opts.readers;
  for (std::size_t i = 0; i < readers; ++i)
    result->readers_.push_back(
      spawn_tenant_reader(sys, opts.db_path, opts.store, result->stats_, opts.writer.spin));
  return result;
}

tenant::~tenant() {
  stop();
}

const reader_actor& tenant::reader() noexcept {
  auto i = next_reader_.fetch_add(1, std::memory_order_relaxed);
  return readers_[i % readers_.size()];
}

std::vector<caf::actor_addr> tenant::file_owners() const {
  std::vector<caf::actor_addr> result;
  for (const auto& r : readers_)
    result.push_back(r.address());
  result.push_back(writer_.address());
  return result;
}

void tenant::stop() {
  if (stopped_.exchange(true))
    return;
  signal_->shutdown();
  caf::anon_send_exit(subscriptions_, caf::exit_reason::user_shutdown);
  for (auto& r : readers_)
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer_, caf::exit_reason::user_shutdown);
}

} // namespace ebuse
