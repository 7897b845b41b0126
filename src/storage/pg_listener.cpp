// The LISTEN loop: poll the socket, hand notifications over, reconnect with back-off.
#include "storage/pg_listener.hpp"

#include <algorithm>
#include <charconv>

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace ebuse {

namespace {

// Silence after which the connection is checked with an empty query: a peer that
// vanished without closing the socket (network cut) is noticed within this time.
constexpr int idle_check_ms = 10000;

} // namespace

pg_listener::pg_listener(std::string url, notify_fn on_notify, connected_fn on_connected,
                         const pg_options& opts)
  : url_(std::move(url)),
    on_notify_(std::move(on_notify)),
    on_connected_(std::move(on_connected)),
    opts_(opts) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { run(); });
}

pg_listener::~pg_listener() {
  stop();
  if (wake_fd_ >= 0)
    ::close(wake_fd_);
}

void pg_listener::stop() {
  stop_ = true;
  uint64_t one = 1;
  if (wake_fd_ >= 0)
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable())
    thread_.join();
}

bool pg_listener::wait(int fd, int ms, bool& readable) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  int n = ::poll(fds, fd >= 0 ? 2 : 1, ms);
  readable = n > 0 && fd >= 0 && fds[1].revents != 0;
  return !stop_;
}

void pg_listener::listen_on(pg::connection& c) {
  PGconn* conn = c.get();
  int fd = PQsocket(conn);
  bool readable = false;
  while (wait(fd, idle_check_ms, readable)) {
    if (!readable) {
      if (c.exec("SELECT 1"))
        return;
    } else if (PQconsumeInput(conn) != 1) {
      return;
    }
    while (PGnotify* n = PQnotifies(conn)) {
      std::string_view payload = n->extra;
      auto space = payload.rfind(' ');
      int64_t head = 0;
      if (space != std::string_view::npos) {
        auto digits = payload.substr(space + 1);
        auto res = std::from_chars(digits.data(), digits.data() + digits.size(), head);
        if (res.ec == std::errc{})
          on_notify_(std::string{payload.substr(0, space)}, head);
      }
      PQfreemem(n);
    }
    if (!c.ok())
      return;
  }
}

void pg_listener::run() {
  int backoff_ms = 50;
  bool readable = false;
  while (!stop_) {
    auto c = pg::connection::open(url_, opts_.conn);
    std::string listen = std::string{"LISTEN "} + pg_head_channel;
    if (!c || c->exec(listen.c_str())) {
      if (!wait(-1, backoff_ms, readable))
        break;
      backoff_ms = std::min(backoff_ms * 2, 2000);
      continue;
    }
    backoff_ms = 50;
    connected_ = true;
    if (on_connected_)
      on_connected_();
    listen_on(*c);
    connected_ = false;
  }
}

} // namespace ebuse
