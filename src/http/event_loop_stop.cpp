// Stopping the loop: draining (no new connections, idle ones closed, parked requests
// answered, requests under way finished) and cutting every connection.
#include "http/event_loop.hpp"

#include <vector>

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ebuse {

void event_loop::stop_accepting() {
  accepting_.store(false);
  wake();
}

void event_loop::close_all() {
  cut_all_.store(true);
  wake();
}

// The shutdown steps asked for so far, on the loop's thread.
void event_loop::drain_and_cut() {
  if (!accepting_.load() && !draining_) {
    draining_ = true;
    if (listen_fd_ != INVALID_SOCKET) {
      if (listening_)
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      ::close(listen_fd_);
      listen_fd_ = INVALID_SOCKET;
      listening_ = false;
    }
    // Parked requests are answered at once (a long-poll with what there is).
    resume_all_parked();
    // Idle connections close now; one with part of a request finishes it (503).
    std::vector<loop_conn*> idle;
    for (auto* c : conns_)
      if (c->st != loop_conn::state::worker && c->st != loop_conn::state::following
          && c->in.empty())
        idle.push_back(c);
    for (auto* c : idle)
      close_conn(*c);
  }
  if (cut_all_.load()) {
    std::vector<loop_conn*> all{conns_.begin(), conns_.end()};
    for (auto* c : all) {
      if (c->st == loop_conn::state::worker)
        ::shutdown(c->fd, SHUT_RDWR); // its worker fails and gives it back
      else
        close_conn(*c);
    }
  }
}

} // namespace ebuse
