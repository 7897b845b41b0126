// The reader pool: idle connections by file, an LRU list across all files.
#include "storage/reader_pool.hpp"

#include <utility>

namespace ebuse {

caf::error reader_conn::ensure_streams() {
  if (streams)
    return caf::none;
  auto res = stream_reader::open(store->connection());
  if (!res)
    return std::move(res.error());
  streams = std::move(*res);
  return caf::none;
}

reader_pool::reader_pool(std::size_t max_open) : max_open_(max_open == 0 ? 1 : max_open) {
}

void reader_pool::evict_locked(lru_list& out) {
  while (open_ > max_open_ && !lru_.empty()) {
    auto last = std::prev(lru_.end());
    auto range = by_path_.equal_range(last->path);
    for (auto i = range.first; i != range.second; ++i)
      if (i->second == last) {
        by_path_.erase(i);
        break;
      }
    out.splice(out.end(), lru_, last);
    --open_;
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

caf::expected<std::unique_ptr<reader_conn>> reader_pool::acquire(const std::string& path,
                                                                 const store_options& opts) {
  lru_list closing; // closed outside the lock, on return
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = by_path_.find(path);
    if (i != by_path_.end()) {
      auto conn = std::move(i->second->conn);
      lru_.erase(i->second);
      by_path_.erase(i);
      hits_.fetch_add(1, std::memory_order_relaxed);
      return conn;
    }
    ++open_; // counted now, so that concurrent opens evict for each other
    evict_locked(closing);
  }
  closing.clear();
  auto store = store_reader::open(path, opts);
  if (!store) {
    std::lock_guard<std::mutex> guard{mtx_};
    --open_;
    return std::move(store.error());
  }
  opens_.fetch_add(1, std::memory_order_relaxed);
  auto conn = std::make_unique<reader_conn>();
  conn->store = std::move(*store);
  return conn;
}

void reader_pool::release(const std::string& path, std::unique_ptr<reader_conn> conn) {
  lru_list closing;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (conn->broken) {
      --open_;
    } else {
      lru_.push_front(idle_entry{path, std::move(conn)});
      by_path_.emplace(path, lru_.begin());
      evict_locked(closing);
    }
  }
  conn.reset();
}

void reader_pool::close_file(const std::string& path) {
  lru_list closing;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto range = by_path_.equal_range(path);
    for (auto i = range.first; i != range.second; ++i) {
      closing.splice(closing.end(), lru_, i->second);
      --open_;
    }
    by_path_.erase(range.first, range.second);
  }
}

std::size_t reader_pool::open() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return open_;
}

std::shared_ptr<reader_pool> default_reader_pool() {
  static auto pool = std::make_shared<reader_pool>(default_reader_connections);
  return pool;
}

} // namespace ebuse
