// The shutdown timer: grace period, forced cut, and a bound on every later phase.
#include "app/shutdown.hpp"

#include <cstdlib>
#include <string>

#include "app/config_log.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

// Beyond the waits that are bounded by settings: thread wake-ups, closing files, and
// copying the WAL into the database at the final checkpoint.
constexpr std::chrono::seconds drain_margin{5};
constexpr std::chrono::seconds stores_margin{10};

void exit_overdue(const char* phase) {
  log::write(log::level::error, "shutdown did not complete in time; exiting",
             {{"phase", log::str(phase)}});
  log::flush();
  std::_Exit(1);
}

} // namespace

shutdown_limits shutdown_limits::of(std::chrono::nanoseconds grace,
                                    std::chrono::nanoseconds request,
                                    std::chrono::nanoseconds busy) {
  shutdown_limits l;
  l.grace = grace;
  l.drain = request + drain_margin;
  l.stores = 2 * busy + stores_margin;
  return l;
}

shutdown_control::shutdown_control(shutdown_limits limits,
                                   std::function<void(const char* phase)> overdue)
  : limits_(limits), overdue_(overdue ? std::move(overdue) : exit_overdue) {
}

shutdown_control::~shutdown_control() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    finished_ = true;
  }
  cv_.notify_all();
  if (timer_.joinable())
    timer_.join();
}

void shutdown_control::begin(std::string_view reason, action stop, action cut) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (begun_ || served_)
      return;
    begun_ = true;
    begun_at_ = std::chrono::steady_clock::now();
    cut_ = std::move(cut);
    start_timer();
  }
  log::write(log::level::info, "shutting down",
             {{"signal", log::str(reason)},
              {"shutdown_timeout", log::str(format_duration(limits_.grace))}});
  stop();
}

void shutdown_control::served() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    served_ = true;
    served_at_ = std::chrono::steady_clock::now();
    start_timer();
  }
  cv_.notify_all();
}

void shutdown_control::finished() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    finished_ = true;
  }
  cv_.notify_all();
}

bool shutdown_control::forced() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return forced_;
}

void shutdown_control::start_timer() {
  if (!timer_.joinable())
    timer_ = std::thread{[this] { run(); }};
}

void shutdown_control::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  if (begun_) {
    auto grace_end = begun_at_ + limits_.grace;
    if (!cv_.wait_until(lock, grace_end, [this] { return served_ || finished_; })) {
      forced_ = true;
      auto cut = cut_;
      lock.unlock();
      log::write(log::level::warn, "shutdown grace period over; cutting open connections");
      cut();
      lock.lock();
      if (!cv_.wait_until(lock, grace_end + limits_.drain,
                          [this] { return served_ || finished_; })) {
        lock.unlock();
        return overdue_("requests");
      }
    }
  }
  // Waits for served() if begin() started the timer and the grace was not needed.
  cv_.wait(lock, [this] { return served_ || finished_; });
  if (!cv_.wait_until(lock, served_at_ + limits_.stores, [this] { return finished_; })) {
    lock.unlock();
    overdue_("stores");
  }
}

} // namespace ebuse
