// The node's listener: announcements of commits, handed to the running tenants.
#include "app/pg_wakeups.hpp"

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
  listener_ = std::make_unique<pg_listener>(url, std::move(on_notify), [] {});
}

pg_wakeups::~pg_wakeups() {
  listener_->stop();
}

} // namespace ebuse
