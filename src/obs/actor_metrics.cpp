// Mailbox and handling-time bookkeeping of an actor.
#include "obs/actor_metrics.hpp"

namespace ebuse {

namespace {

void raise_to(std::atomic<int64_t>& peak, int64_t value) noexcept {
  auto cur = peak.load(std::memory_order_relaxed);
  while (value > cur && !peak.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
}

} // namespace

void actor_metrics::begin(std::size_t waiting) noexcept {
  auto w = static_cast<int64_t>(waiting);
  mailbox.store(w, std::memory_order_relaxed);
  raise_to(mailbox_peak, w);
}

void actor_metrics::end(double seconds) noexcept {
  handled.fetch_add(1, std::memory_order_relaxed);
  handling.observe(seconds);
}

} // namespace ebuse
