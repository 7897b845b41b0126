// The signal thread: a signalfd and an eventfd in one poll(), joined on destruction.
#include "app/signals.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

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

signal_thread::signal_thread(sigset_t sigs, std::function<void()> on_hangup,
                             std::function<void(const char* name)> on_stop)
  : on_hangup_(std::move(on_hangup)), on_stop_(std::move(on_stop)) {
  signal_fd_ = ::signalfd(-1, &sigs, SFD_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (signal_fd_ < 0 || wake_fd_ < 0) {
    int err = errno;
    if (signal_fd_ >= 0)
      ::close(signal_fd_);
    if (wake_fd_ >= 0)
      ::close(wake_fd_);
    throw std::system_error(err, std::generic_category(), "signal thread");
  }
  thread_ = std::thread{[this] { run(); }};
}

signal_thread::~signal_thread() {
  uint64_t one = 1;
  while (::write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
  thread_.join();
  ::close(signal_fd_);
  ::close(wake_fd_);
}

void signal_thread::run() {
  bool stopping = false;
  for (;;) {
    pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[1].revents)
      return;
    signalfd_siginfo info;
    if (::read(signal_fd_, &info, sizeof(info)) != static_cast<ssize_t>(sizeof(info)))
      continue;
    int sig = static_cast<int>(info.ssi_signo);
    if (sig == SIGHUP) {
      on_hangup_();
    } else if (!stopping) {
      // Once: a second SIGTERM while stopping changes nothing (the bounds of the
      // shutdown hold anyway).
      stopping = true;
      on_stop_(strsignal(sig));
    }
  }
}

} // namespace ebuse
