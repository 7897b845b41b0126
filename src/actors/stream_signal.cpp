// Stream versions under one mutex per tenant, and a condition variable for the waiters.
#include "actors/stream_signal.hpp"

namespace ebuse {

void stream_signal::take_callbacks(entry& e, std::vector<std::function<void()>>& out) {
  e.watchers -= static_cast<int>(e.callbacks.size());
  for (auto& cb : e.callbacks)
    out.push_back(std::move(cb.second));
  e.callbacks.clear();
}

void stream_signal::notify(const std::vector<int64_t>& ids) {
  bool any = false;
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard<std::mutex> lock{mtx_};
    for (auto id : ids) {
      auto i = streams_.find(id);
      if (i == streams_.end())
        continue;
      ++i->second.version;
      any = true;
      if (!i->second.callbacks.empty()) {
        take_callbacks(i->second, wakes);
        if (i->second.watchers == 0)
          streams_.erase(i);
      }
    }
  }
  if (any)
    cv_.notify_all();
  for (auto& w : wakes)
    w();
}

void stream_signal::shutdown() {
  std::vector<std::function<void()>> wakes;
  {
    std::lock_guard<std::mutex> lock{mtx_};
    stopped_ = true;
    for (auto i = streams_.begin(); i != streams_.end();) {
      take_callbacks(i->second, wakes);
      i = i->second.watchers == 0 ? streams_.erase(i) : std::next(i);
    }
  }
  cv_.notify_all();
  for (auto& w : wakes)
    w();
}

uint64_t stream_signal::on_change(int64_t id, uint64_t seen, std::function<void()> wake) {
  {
    std::lock_guard<std::mutex> lock{mtx_};
    auto i = streams_.find(id);
    if (!stopped_ && i != streams_.end() && i->second.version == seen) {
      ++i->second.watchers;
      i->second.callbacks.emplace(++next_token_, std::move(wake));
      return next_token_;
    }
  }
  wake();
  return 0;
}

void stream_signal::cancel(int64_t id, uint64_t token) {
  if (token == 0)
    return;
  std::lock_guard<std::mutex> lock{mtx_};
  auto i = streams_.find(id);
  if (i == streams_.end())
    return;
  if (i->second.callbacks.erase(token) > 0 && --i->second.watchers == 0)
    streams_.erase(i);
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
