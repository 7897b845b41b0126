// Spinning briefly after a message, for the next one, instead of sleeping.
#pragma once

#include <chrono>

#include <sched.h>

namespace ebuse {

/// Waits up to `how_long` for the next message of `self` without sleeping. Waking a
/// sleeping thread is a large part of a lone client's round trip (docs/PERFORMANCE.md);
/// sched_yield() meanwhile hands the core to any runnable thread (the HTTP threads
/// being served), so a busy server loses nothing. For the detached store actors only:
/// a cooperative actor would hold a scheduler thread.
template <class Self>
void spin_for_mail(Self self, std::chrono::microseconds how_long) {
  if (how_long.count() <= 0)
    return;
  auto until = std::chrono::steady_clock::now() + how_long;
  while (self->mailbox().empty() && std::chrono::steady_clock::now() < until)
    sched_yield();
}

} // namespace ebuse
