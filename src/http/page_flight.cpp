// Single-flight event page loads with a short, bounded memory of finished pages.
#include "http/page_flight.hpp"

#include <cstdint>

#include "actors/tenant_stats.hpp"

namespace ebuse {

// Everything that decides a long-poll's page, with the head its caller saw published.
std::string page_flight::key_of(const tenant& t, int64_t from, int64_t to, int64_t limit,
                                const type_filter& types) {
  std::string key = std::to_string(reinterpret_cast<std::uintptr_t>(&t));
  for (int64_t v : {t.stats().head.load(std::memory_order_acquire), from, to, limit}) {
    key += ' ';
    key += std::to_string(v);
  }
  key += ' ';
  key += t.name();
  // Each pattern with its length, so that no two filters give the same text.
  for (const auto* list : {&types.exact, &types.prefixes}) {
    key += '|';
    for (const auto& s : *list) {
      key += std::to_string(s.size());
      key += ':';
      key += s;
    }
  }
  return key;
}

page_flight& page_flight::shared() {
  static page_flight instance;
  return instance;
}

std::size_t page_flight::kept() const {
  std::lock_guard<std::mutex> lock{mu_};
  std::size_t n = 0;
  for (const auto& kv : entries_)
    n += kv.second->done ? 1 : 0;
  return n;
}

void page_flight::erase(const std::string& key, const entry& e) {
  bytes_ -= e.bytes;
  entries_.erase(key);
}

void page_flight::keep_bounded() {
  while (!order_.empty() && (order_.size() > limits_.max_pages || bytes_ > limits_.max_bytes)) {
    auto [key, seq] = std::move(order_.front());
    order_.pop_front();
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second->done && it->second->seq == seq)
      erase(key, *it->second);
  }
}

caf::expected<shared_page>
page_flight::get(const std::string& key,
                 const std::function<caf::expected<event_page>()>& load) {
  std::unique_lock<std::mutex> lock{mu_};
  if (auto it = entries_.find(key); it != entries_.end()) {
    auto e = it->second; // kept alive while waiting, whatever happens to the map
    if (!e->done) {
      done_.wait(lock, [&] { return e->done; });
      return e->result;
    }
    if (std::chrono::steady_clock::now() - e->finished <= limits_.keep)
      return e->result;
    erase(key, *e);
  }
  auto e = std::make_shared<entry>();
  e->seq = ++next_seq_;
  entries_.emplace(key, e);
  lock.unlock();
  auto loaded = load();
  lock.lock();
  e->done = true;
  e->finished = std::chrono::steady_clock::now();
  if (loaded) {
    const std::size_t bytes = loaded->json.size();
    e->result = std::make_shared<const event_page>(std::move(*loaded));
    if (bytes <= limits_.max_bytes / 4) {
      e->bytes = bytes;
      bytes_ += bytes;
      order_.emplace_back(key, e->seq);
      keep_bounded();
    } else {
      entries_.erase(key); // too large to keep: shared with the callers waiting only
    }
  } else {
    e->result = std::move(loaded.error());
    entries_.erase(key); // its waiters hold the entry; the next caller loads anew
  }
  done_.notify_all();
  return e->result;
}

} // namespace ebuse
