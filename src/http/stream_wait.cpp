// Waiting for a stream to change: read, and if there is nothing, park the request in the
// event loop (or, when it cannot park, sleep on the signal).
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/streams_http.hpp"

namespace ebuse {

namespace {

using clock_type = std::chrono::steady_clock;

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

streams::read_request read_at(const std::string& path, streams::offset from) {
  streams::read_request req;
  req.path = path;
  req.from = {streams::offset_kind::at, from};
  return req;
}

// Reads `path` from `from` for a wait on stream `stream_id`. Another stream created under
// the same path since is not the one waited on: the answer is that it is gone (404), so a
// reader never goes on at an offset of the first stream in the data of the second.
caf::expected<streams::read_result> read_same_stream(request_context& ctx,
                                                     const std::string& path,
                                                     streams::offset from, int64_t stream_id) {
  auto rr = stream_read(ctx, read_at(path, from));
  if (rr && rr->result == streams::outcome::ok && rr->meta.id != stream_id) {
    rr->result = streams::outcome::not_found;
    rr->detail.clear();
  }
  return rr;
}

// Whether `rr` (of read_same_stream) ends the wait: a failure, another outcome (another
// stream under the same path is one), data, or the closed end.
bool settles(const caf::expected<streams::read_result>& rr) {
  return !rr || rr->result != streams::outcome::ok || rr->appends > 0
         || (rr->meta.closed && rr->up_to_date);
}

} // namespace

caf::expected<streams::read_result> wait_for_data(request_context& ctx, const std::string& path,
                                                  streams::offset from, int64_t stream_id,
                                                  std::chrono::steady_clock::time_point deadline) {
  auto& signal = ctx.t->streams_signal();
  stream_watch watch{signal, stream_id};
  waiting_scope counted{ctx.t->stats()};
  for (;;) {
    // The version is taken before the read: a commit after it wakes the wait below.
    auto seen = watch.version();
    auto rr = read_same_stream(ctx, path, from, stream_id);
    if (settles(rr))
      return rr;
    if (signal.stopped() || !watch.wait(seen, deadline))
      return rr;
  }
}

park_subscribe wake_on_stream_change(const std::shared_ptr<tenant>& t, int64_t stream_id,
                                     uint64_t seen) {
  return [t, stream_id, seen](std::function<void()> wake) {
    t->stats().stream_waiting.fetch_add(1, std::memory_order_relaxed);
    auto token = t->streams_signal().on_change(stream_id, seen, std::move(wake));
    return std::function<void()>{[t, stream_id, token] {
      t->streams_signal().cancel(stream_id, token);
      t->stats().stream_waiting.fetch_sub(1, std::memory_order_relaxed);
    }};
  };
}

caf::expected<streams::read_result>
read_or_park_in_loop(request_context& ctx, const std::string& path, streams::offset from,
                     int64_t stream_id, std::chrono::steady_clock::time_point deadline,
                     const continuation_park& park, bool& parked) {
  parked = false;
  auto& signal = ctx.t->streams_signal();
  stream_watch watch{signal, stream_id};
  // Taken before the read: a commit after it wakes the parked response.
  auto seen = watch.version();
  auto rr = read_same_stream(ctx, path, from, stream_id);
  if (settles(rr) || signal.stopped() || clock_type::now() >= deadline)
    return rr;
  park(deadline, wake_on_stream_change(ctx.t, stream_id, seen));
  parked = true;
  return rr;
}

caf::expected<streams::read_result>
wait_or_park_for_data(request_context& ctx, const std::string& path, streams::offset from,
                      int64_t stream_id, std::chrono::steady_clock::time_point deadline,
                      bool& parked) {
  parked = false;
  auto t = ctx.t;
  auto& signal = t->streams_signal();
  stream_watch watch{signal, stream_id};
  // Taken before the read: a commit after it wakes the parked request.
  auto seen = watch.version();
  auto rr = read_same_stream(ctx, path, from, stream_id);
  if (settles(rr) || signal.stopped() || clock_type::now() >= deadline)
    return rr;
  auto note = std::make_shared<const stream_wait_point>(stream_wait_point{from, stream_id});
  parked = park_request(deadline, wake_on_stream_change(t, stream_id, seen), std::move(note));
  // Parked, or run again but cannot park again (the server stops): answer what there is.
  if (parked || request_resumed())
    return rr;
  return wait_for_data(ctx, path, from, stream_id, deadline);
}

std::optional<stream_wait_point> resumed_stream_wait() {
  const auto& note = resumed_note();
  if (!note)
    return std::nullopt;
  return *static_cast<const stream_wait_point*>(note.get());
}

} // namespace ebuse
