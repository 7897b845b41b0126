// Subscription positions: memory for reads, the tenant writer for durability.
#include "actors/subscription_actor.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/messages.hpp"
#include "actors/tenant_stats.hpp"

namespace ebuse {

subscription_list furthest_behind(std::vector<std::pair<std::string, int64_t>> positions,
                                  std::size_t limit) {
  subscription_list out;
  out.total = static_cast<int64_t>(positions.size());
  out.positions = std::move(positions);
  auto n = std::min(limit, out.positions.size());
  auto behind = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second < b.second : a.first < b.first;
  };
  std::partial_sort(out.positions.begin(), out.positions.begin() + n, out.positions.end(),
                    behind);
  out.positions.resize(n);
  return out;
}

namespace {

struct subscription_state {
  writer_actor writer;
  std::unordered_map<std::string, int64_t> positions;
  std::shared_ptr<tenant_stats> stats;

  static inline const char* name = "subscriptions";
};

using subscription_self = subscription_actor::stateful_pointer<subscription_state>;

// Bounded so that a stuck writer cannot hold a reply forever; the HTTP waiter has its
// own, shorter deadline.
constexpr auto writer_timeout = std::chrono::seconds(60);

subscription_actor::behavior_type
subscription_impl(subscription_self self, writer_actor writer,
                  std::unordered_map<std::string, int64_t> initial,
                  std::shared_ptr<tenant_stats> stats) {
  self->state.writer = std::move(writer);
  self->state.positions = std::move(initial);
  self->state.stats = std::move(stats);
  return {
    [self](sub_get_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto& positions = self->state.positions;
      auto i = positions.find(cmd.id);
      deliver<int64_t>(cmd.reply, i == positions.end() ? int64_t{0} : i->second);
    },
    [self](sub_list_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      const auto& positions = self->state.positions;
      auto out = furthest_behind({positions.begin(), positions.end()}, cmd.limit);
      deliver<subscription_list>(cmd.reply, std::move(out));
    },
    [self](sub_save_cmd& cmd) {
      handling_scope scope{self->state.stats->subscriptions, self->mailbox().size()};
      auto reply = std::move(cmd.reply);
      auto id = cmd.id;
      const bool remove = cmd.remove;
      // A negative position asks the writer to delete the stored one.
      self->request(self->state.writer, writer_timeout, save_atom::value,
                    std::move(cmd.id), remove ? int64_t{-1} : cmd.position)
        .then(
          [self, reply, id, remove](int64_t position) {
            if (remove)
              self->state.positions.erase(id);
            else
              self->state.positions[id] = position;
            deliver<int64_t>(reply, position);
          },
          [reply](caf::error& err) { deliver<int64_t>(reply, std::move(err)); });
    },
  };
}

} // namespace

subscription_actor spawn_subscription_actor(caf::actor_system& sys, writer_actor writer,
                                            std::unordered_map<std::string, int64_t> initial,
                                            std::shared_ptr<tenant_stats> stats) {
  return sys.spawn(subscription_impl, std::move(writer), std::move(initial),
                   std::move(stats));
}

} // namespace ebuse
