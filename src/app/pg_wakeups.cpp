// The node's listener: announcements of commits, handed to the running tenants.
#include "app/pg_wakeups.hpp"

#include "storage/pg_reader.hpp"

namespace ebuse {

pg_wakeups::pg_wakeups(const std::string& url, std::weak_ptr<tenant_registry> registry) {
  auto on_notify = [registry](const std::string& name, int64_t head) {
    auto reg = registry.lock();
    if (!reg)
      return;
    for (const auto& t : reg->running())
      if (t->name() == name) {
        t->observe_head(head);
        return;
      }
  };
  // Once LISTEN is in place, the heads committed before (while it was not) are read,
  // on the listener's thread with a connection of its own: rare, and one query each.
  auto reader = std::make_shared<pg_reader>(url);
  auto on_connected = [registry, reader] {
    auto reg = registry.lock();
    if (!reg)
      return;
    for (const auto& t : reg->running())
      if (t->on_postgres())
        if (auto head = reader->max_position(t->name()))
          t->observe_head(*head);
  };
  listener_ = std::make_unique<pg_listener>(url, std::move(on_notify), std::move(on_connected));
}

pg_wakeups::~pg_wakeups() {
  listener_->stop();
}

} // namespace ebuse
