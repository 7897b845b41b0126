// Stream versions under one mutex per tenant, and a condition variable for the waiters.
#include "actors/stream_signal.hpp"

namespace ebuse {

void stream_signal::notify(const std::vector<int64_t>& ids) {
  bool any = false;
  {
    std::lock_guard<std::mutex> lock{mtx_};
    for (auto id : ids) {
      auto i = streams_.find(id);
      if (i != streams_.end()) {
        ++i->second.version;
        any = true;
      }
    }
  }
  if (any)
    cv_.notify_all();
}

void stream_signal::shutdown() {
  {
    std::lock_guard<std::mutex> lock{mtx_};
    stopped_ = true;
  }
  cv_.notify_all();
}

bool stream_signal::stopped() const {
  std::lock_guard<std::mutex> lock{mtx_};
  return stopped_;
}

stream_watch::stream_watch(stream_signal& sig, int64_t stream_id) : sig_(sig), id_(stream_id) {
  std::lock_guard<std::mutex> lock{sig_.mtx_};
  ++sig_.streams_[id_].watchers;
}

stream_watch::~stream_watch() {
  std::lock_guard<std::mutex> lock{sig_.mtx_};
  auto i = sig_.streams_.find(id_);
  if (i != sig_.streams_.end() && --i->second.watchers == 0)
    sig_.streams_.erase(i);
}

uint64_t stream_watch::version() const {
  std::lock_guard<std::mutex> lock{sig_.mtx_};
  return sig_.streams_[id_].version;
}

bool stream_watch::wait(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock{sig_.mtx_};
  auto changed = [&] { return sig_.streams_[id_].version != seen; };
  sig_.cv_.wait_until(lock, deadline, [&] { return sig_.stopped_ || changed(); });
  return changed();
}

} // namespace ebuse
