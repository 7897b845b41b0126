// Long-poll parameters, the head header, and waiting on the event log's signal.
#include "http/live.hpp"

#include <string>

#include <sys/eventfd.h>
#include <unistd.h>

#include "actors/stream_signal.hpp"
#include "actors/tenant_stats.hpp"
#include "core/decimal.hpp"
#include "core/duration.hpp"
#include "core/errc.hpp"
#include "http/connection.hpp"

namespace ebuse {

caf::expected<std::chrono::nanoseconds> parse_wait_param(const httplib::Request& req,
                                                         const live_options& opts) {
  if (!req.has_param("wait"))
    return std::chrono::nanoseconds{0};
  auto text = req.get_param_value("wait");
  auto bad = [&](const char* why) {
    return make_error(errc::invalid_parameter,
                      std::string{"invalid 'wait' parameter: "} + why);
  };
  std::chrono::nanoseconds d{0};
  int64_t seconds = 0;
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits) {
    // Integer seconds; anything above the maximum is refused below, so a huge count
    // only has to not overflow.
    if (!parse_int64(text, seconds) || seconds > 366 * 24 * 3600)
      return bad("above the maximum (LONGPOLL_MAX)");
    d = std::chrono::seconds(seconds);
  } else if (!parse_go_duration(text, d)) {
    return bad("expected a non-negative duration such as 30s or an integer of seconds");
  }
  if (d > opts.longpoll_max)
    return bad("above the maximum (LONGPOLL_MAX)");
  return d;
}

caf::expected<type_filter> parse_type_param(const httplib::Request& req) {
  type_filter out;
  if (!req.has_param("type"))
    return out;
  std::string why;
  if (!parse_type_filter(req.get_param_value("type"), out, why))
    return make_error(errc::invalid_parameter, "invalid 'type' parameter: " + why);
  return out;
}

void set_head_header(httplib::Response& res, const tenant& t, int64_t seen) {
  auto head = t.stats().head.load(std::memory_order_acquire);
  res.set_header("Ebuse-Head", std::to_string(head > seen ? head : seen));
}

park_subscribe wake_on_commit(const std::shared_ptr<tenant>& t, uint64_t seen) {
  return [t, seen](std::function<void()> wake) {
    t->stats().events_waiting.fetch_add(1, std::memory_order_relaxed);
    auto token = t->streams_signal().on_change(event_log_signal, seen, std::move(wake));
    return std::function<void()>{[t, token] {
      t->streams_signal().cancel(event_log_signal, token);
      t->stats().events_waiting.fetch_sub(1, std::memory_order_relaxed);
    }};
  };
}

live_wait wait_or_park(const std::shared_ptr<tenant>& t, std::chrono::nanoseconds wait,
                       const std::function<bool()>& read) {
  using clock = std::chrono::steady_clock;
  auto deadline = request_resumed() ? resumed_deadline() : clock::now() + wait;
  auto& signal = t->streams_signal();
  stream_watch watch{signal, event_log_signal};
  // Taken before the read: a commit after it wakes the parked request.
  auto seen = watch.version();
  if (read())
    return live_wait::found;
  if (signal.stopped() || clock::now() >= deadline)
    return live_wait::none;
  if (park_request(deadline, wake_on_commit(t, seen))) {
    // The page is decided by the request (range, limit, filter, format) and the store.
    share_answer_when_woken();
    return live_wait::parked;
  }
  // Run again but cannot park again: the server stops.
  if (request_resumed())
    return live_wait::none;
  return wait_for_events(*t, deadline, read) ? live_wait::found : live_wait::none;
}

namespace {

// An eventfd the signal's callback may still write to after its waiter gave up: closed
// when the last holder lets go.
struct wake_fd {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  ~wake_fd() {
    if (fd >= 0)
      ::close(fd);
  }
};

} // namespace

bool follow_events(tenant& t, std::chrono::steady_clock::time_point deadline,
                   const std::function<bool()>& read, bool& client_left) {
  client_left = false;
  auto& signal = t.streams_signal();
  stream_watch watch{signal, event_log_signal};
  auto efd = std::make_shared<wake_fd>();
  if (efd->fd < 0)
    return wait_for_events(t, deadline, read);
  for (;;) {
    auto seen = watch.version();
    if (read())
      return true;
    if (signal.stopped())
      return false;
    auto token = signal.on_change(event_log_signal, seen, [efd] {
      uint64_t one = 1;
      [[maybe_unused]] auto n = ::write(efd->fd, &one, sizeof(one));
    });
    t.stats().events_waiting.fetch_add(1, std::memory_order_relaxed);
    auto got = wait_or_hangup(efd->fd, deadline);
    t.stats().events_waiting.fetch_sub(1, std::memory_order_relaxed);
    signal.cancel(event_log_signal, token);
    uint64_t drained;
    [[maybe_unused]] auto n = ::read(efd->fd, &drained, sizeof(drained));
    if (got != wait_result::ready) {
      client_left = got == wait_result::hangup;
      return false;
    }
  }
}

bool wait_for_events(tenant& t, std::chrono::steady_clock::time_point deadline,
                     const std::function<bool()>& read) {
  auto& signal = t.streams_signal();
  stream_watch watch{signal, event_log_signal};
  for (;;) {
    auto seen = watch.version();
    if (read())
      return true;
    t.stats().events_waiting.fetch_add(1, std::memory_order_relaxed);
    bool changed = !signal.stopped() && watch.wait(seen, deadline);
    t.stats().events_waiting.fetch_sub(1, std::memory_order_relaxed);
    if (!changed)
      return false;
  }
}

} // namespace ebuse
