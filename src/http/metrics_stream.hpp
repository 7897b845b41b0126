// GET /metrics/stream: one snapshot of the live figures per second as server-sent events.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <httplib.h>

#include "actors/messages.hpp"
#include "http/metrics_render.hpp"
#include "http/stop_signal.hpp"
#include "obs/metrics_snapshot.hpp"

namespace ebuse {

/// Copies what `v` shows at this instant. `subs[i]` holds the subscription positions of
/// `v.tenants[i]` (an error: unknown this time).
metrics_sample sample_metrics(const metrics_view& v,
                              const std::vector<caf::expected<subscription_list>>& subs);

/// The ticks of one stream: each samples the figures, renders them against the previous
/// tick's, and frames the result as one server-sent event. Separate from the writing, so
/// that whatever drives the stream (a worker now, an event loop's timer later) only
/// writes what tick() returns.
class metrics_ticker {
public:
  /// `view` builds the figures to show for each tick (every tenant, for an admin).
  metrics_ticker(std::function<metrics_view()> view, std::chrono::nanoseconds ask_timeout)
    : view_(std::move(view)), ask_timeout_(ask_timeout) {
  }

  /// The next event: `data: <snapshot>` and a blank line (the first with `retry:`).
  std::string tick();

private:
  std::function<metrics_view()> view_;
  std::chrono::nanoseconds ask_timeout_;
  std::unique_ptr<metrics_sample> prev_;
};

/// Streams the ticks of `ticker` every `interval` until the client leaves or the server
/// stops (the response then ends cleanly). Holds its worker thread while it lasts.
void stream_metrics(httplib::Response& res, std::shared_ptr<metrics_ticker> ticker,
                    stop_signal& stopped, std::chrono::nanoseconds interval);

} // namespace ebuse
