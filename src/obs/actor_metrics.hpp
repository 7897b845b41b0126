// The figures every actor publishes: messages handled, mailbox depth, handling time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "obs/histogram.hpp"

namespace ebuse {

/// Figures of one actor (or of a pool of like actors, summed).
struct actor_metrics {
  std::atomic<uint64_t> handled{0};      ///< messages handled
  std::atomic<int64_t> mailbox{0};       ///< messages waiting, seen at the last message
  std::atomic<int64_t> mailbox_peak{0};  ///< most messages ever seen waiting
  histogram handling = make_latency_histogram(); ///< seconds per message

  /// Notes that a message starts being handled with `waiting` more in the mailbox.
  void begin(std::size_t waiting) noexcept;
  /// Notes that it was handled in `seconds`.
  void end(double seconds) noexcept;
};

/// Times one message from construction to destruction.
class handling_scope {
public:
  handling_scope(actor_metrics& m, std::size_t waiting) noexcept
    : m_(m), start_(std::chrono::steady_clock::now()) {
    m_.begin(waiting);
  }
  ~handling_scope() {
    m_.end(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  handling_scope(const handling_scope&) = delete;
  handling_scope& operator=(const handling_scope&) = delete;

private:
  actor_metrics& m_;
  std::chrono::steady_clock::time_point start_;
};

} // namespace ebuse
