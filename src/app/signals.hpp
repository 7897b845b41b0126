// Signals: taken by one thread with sigwait, never by a handler.
#pragma once

#include <csignal>
#include <functional>

namespace ebuse {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, and so in every thread it
/// starts from then on (the actor system's, the HTTP workers), and ignores SIGPIPE.
/// Returns the set for signal_thread().
sigset_t block_signals();

/// Starts a detached thread that waits for `sigs`: SIGHUP calls `on_hangup` and waits
/// again; SIGINT or SIGTERM calls `on_stop` with the signal's name, and the thread ends.
void start_signal_thread(sigset_t sigs, std::function<void()> on_hangup,
                         std::function<void(const char* name)> on_stop);

} // namespace ebuse
