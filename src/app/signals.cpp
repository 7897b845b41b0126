// The signal thread.
#include "app/signals.hpp"

#include <cstring>
#include <thread>

#include <pthread.h>

namespace ebuse {

sigset_t block_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return sigs;
}

void start_signal_thread(sigset_t sigs, std::function<void()> on_hangup,
                         std::function<void(const char* name)> on_stop) {
  std::thread{[sigs, on_hangup = std::move(on_hangup), on_stop = std::move(on_stop)] {
    for (;;) {
      int sig = 0;
      if (sigwait(&sigs, &sig) != 0)
        continue;
      if (sig == SIGHUP) {
        on_hangup();
        continue;
      }
      on_stop(strsignal(sig));
      return;
    }
  }}.detach();
}

} // namespace ebuse
