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
  if (!opts.database_url.empty())
    return start_pg(sys, opts);
  // The writer creates and migrates the file before any read-only connection opens it.
  auto sopts = opts.store;
  sopts.idempotency_ttl_ms = opts.writer.idempotency_ttl.count();
  auto store = store_writer::open(opts.db_path, sopts);
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
  result->stats_->unhealthy = opts.unhealthy;
  result->queue_events_ = opts.writer.queue_events;
  result->queue_bytes_ = opts.writer.queue_bytes;
  result->stats_->head.store((*store)->head());
  result->signal_ = std::make_shared<stream_signal>();
  auto wopts = opts.writer;
  wopts.signal = result->signal_;
  auto writer = spawn_writer_with_front(sys, std::shared_ptr<log_writer>{std::move(*store)},
                                        result->stats_, wopts);
  result->writer_ = std::move(writer.actor);
  result->writer_front_ = std::move(writer.front);
  result->subscriptions_ = spawn_subscription_actor(sys, result->writer_,
                                                    std::move(positions), result->stats_);
  reader_setup rs;
  rs.db_path = opts.db_path;
  rs.opts = opts.store;
  rs.jobs = opts.writer.pool;
  rs.connections = opts.reader_connections;
  rs.max_jobs = opts.readers;
  result->readers_.push_back(spawn_tenant_reader(sys, std::move(rs), result->stats_));
  return result;
}

tenant::~tenant() {
  stop();
}

namespace {

// What an event costs the queue: its text and the bookkeeping around it.
constexpr uint64_t event_overhead_bytes = 64;

// Counts `n` into `counter` unless that passes `limit`; an empty queue takes anything,
// so that one large batch is never refused forever.
bool reserve(std::atomic<uint64_t>& counter, uint64_t n, uint64_t limit) {
  auto before = counter.fetch_add(n, std::memory_order_relaxed);
  if (before == 0 || before + n <= limit)
    return true;
  counter.fetch_sub(n, std::memory_order_relaxed);
  return false;
}

} // namespace

caf::error tenant::admit(append_cmd& cmd) {
  cmd.queued_events = cmd.events.size();
  for (const auto& ev : cmd.events)
    cmd.queued_bytes += ev.type.size() + ev.data.size() + ev.timestamp.size()
                        + event_overhead_bytes;
  auto& st = *stats_;
  if (!reserve(st.queued_events, cmd.queued_events, queue_events_)) {
    st.overload_refusals.fetch_add(1, std::memory_order_relaxed);
    return make_error(errc::overloaded, "the writer's queue is full (events)", 1);
  }
  if (!reserve(st.queued_bytes, cmd.queued_bytes, queue_bytes_)) {
    st.queued_events.fetch_sub(cmd.queued_events, std::memory_order_relaxed);
    st.overload_refusals.fetch_add(1, std::memory_order_relaxed);
    return make_error(errc::overloaded, "the writer's queue is full (bytes)", 1);
  }
  return caf::none;
}

caf::expected<append_result> tenant::append(std::vector<new_event> events,
                                            std::chrono::nanoseconds timeout) {
  append_cmd cmd;
  cmd.events = std::move(events);
  if (auto err = admit(cmd))
    return err;
  auto [tx, rx] = make_reply<append_result>();
  cmd.reply = std::move(tx);
  writer_front_->append(std::move(cmd));
  return await(rx, timeout);
}

caf::expected<append_outcome> tenant::append(append_request req,
                                             std::chrono::nanoseconds timeout) {
  append_cmd cmd;
  cmd.events = std::move(req.events);
  cmd.expected_head = req.expected_head;
  cmd.idempotency = std::move(req.idempotency);
  if (auto err = admit(cmd))
    return err;
  auto [tx, rx] = make_reply<append_outcome>();
  cmd.outcome = std::move(tx);
  writer_front_->append(std::move(cmd));
  return await(rx, timeout);
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
  stats_->retire_faults();
  signal_->shutdown();
  caf::anon_send_exit(subscriptions_, caf::exit_reason::user_shutdown);
  for (auto& r : readers_)
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(writer_, caf::exit_reason::user_shutdown);
}

} // namespace ebuse
