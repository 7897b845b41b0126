// The page-cache budget shared over every connection that may be open at once.
#include <algorithm>

#include "storage/event_store.hpp"

namespace ebuse {

namespace {

// PRAGMA cache_size in KiB (negative) or pages (positive) as KiB, pages of 4 KiB.
int64_t kib_of(int cache_size) {
  return cache_size < 0 ? -static_cast<int64_t>(cache_size) : int64_t{4} * cache_size;
}

// The share of `part` bytes for each of `n` connections, within [64 KiB, `asked` KiB].
int share_of(int64_t part, int64_t n, int asked) {
  constexpr int64_t floor_kib = 64;
  auto kib = part / std::max<int64_t>(1, n) / 1024;
  kib = std::clamp<int64_t>(kib, std::min(floor_kib, kib_of(asked)), kib_of(asked));
  return -static_cast<int>(kib);
}

} // namespace

store_options share_page_cache(store_options opts, int64_t budget_bytes, int64_t writers,
                               int64_t readers) {
  if (budget_bytes <= 0)
    return opts;
  opts.cache_size = share_of(budget_bytes / 2, writers, opts.cache_size);
  opts.reader_cache_size = share_of(budget_bytes / 2, readers, opts.reader_cache_size);
  return opts;
}

} // namespace ebuse
