// Waiting for a stream to change: read, and if there is nothing, sleep on the signal.
#include "http/streams_http.hpp"

namespace ebuse {

namespace {

// Counts a waiting reader in the tenant's figures while it waits.
class waiting_scope {
public:
  explicit waiting_scope(const tenant_stats& stats) : n_(stats.stream_waiting) {
    n_.fetch_add(1, std::memory_order_relaxed);
  }
  ~waiting_scope() {
    n_.fetch_sub(1, std::memory_order_relaxed);
  }
  waiting_scope(const waiting_scope&) = delete;
  waiting_scope& operator=(const waiting_scope&) = delete;

private:
  std::atomic<int64_t>& n_;
};

} // namespace

caf::expected<streams::read_result> wait_for_data(request_context& ctx, const std::string& path,
                                                  streams::offset from, int64_t stream_id,
                                                  std::chrono::steady_clock::time_point deadline) {
  auto& signal = ctx.t->streams_signal();
  stream_watch watch{signal, stream_id};
  waiting_scope counted{ctx.t->stats()};
  streams::read_request req;
  req.path = path;
  req.from = {streams::offset_kind::at, from};
  for (;;) {
    // The version is taken before the read: a commit after it wakes the wait below.
    auto seen = watch.version();
    auto rr = stream_read(ctx, req);
    if (!rr || rr->result != streams::outcome::ok || rr->appends > 0
        || (rr->meta.closed && rr->up_to_date) || rr->meta.id != stream_id)
      return rr;
    if (signal.stopped() || !watch.wait(seen, deadline))
      return rr;
  }
}

} // namespace ebuse
