// The shutdown timer: grace period, forced cut, last-resort exit.
#include "app/shutdown.hpp"

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "app/config_log.hpp"
#include "http/server.hpp"
#include "obs/logger.hpp"

namespace ebuse {

struct shutdown_control::state {
  mutable std::mutex mtx;
  std::condition_variable cv;
  http_server* server = nullptr;
  bool begun = false;
  bool served = false;
  bool forced = false;
};

shutdown_control::shutdown_control() : st_(std::make_shared<state>()) {
}

void shutdown_control::begin(http_server& server, std::chrono::nanoseconds grace,
                             std::string_view reason, std::chrono::nanoseconds backstop) {
  {
    std::lock_guard<std::mutex> guard{st_->mtx};
    if (st_->begun || st_->served)
      return;
    st_->begun = true;
    st_->server = &server;
  }
  log::write(log::level::info, "shutting down",
             {{"signal", log::str(reason)},
              {"shutdown_timeout", log::str(format_duration(grace))}});
  server.stop();
  std::thread{[st = st_, grace, backstop] {
    std::unique_lock<std::mutex> lock{st->mtx};
    if (!st->cv.wait_for(lock, grace, [&] { return st->served; })) {
      st->forced = true;
      log::write(log::level::warn, "shutdown grace period over; cutting open connections");
      st->server->cut_connections();
    }
    lock.unlock();
    std::this_thread::sleep_for(backstop);
    log::write(log::level::error, "shutdown did not complete in time; exiting");
    log::flush();
    std::_Exit(1);
  }}.detach();
}

void shutdown_control::served() {
  std::lock_guard<std::mutex> guard{st_->mtx};
  st_->served = true;
  st_->server = nullptr;
  st_->cv.notify_all();
}

bool shutdown_control::forced() const {
  std::lock_guard<std::mutex> guard{st_->mtx};
  return st_->forced;
}

} // namespace ebuse
