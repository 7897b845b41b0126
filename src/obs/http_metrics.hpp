// HTTP figures: per-route requests by status class and latency, bytes, connections.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "obs/histogram.hpp"

namespace ebuse {

/// Figures of one route.
struct route_metrics {
  std::array<std::atomic<uint64_t>, 5> by_class{}; ///< 1xx .. 5xx
  histogram latency = make_latency_histogram();     ///< seconds
};

/// Process-wide HTTP figures; every update is one relaxed atomic operation.
class http_metrics {
public:
  /// One set of route figures per label, in this order (the route table's labels; the
  /// last catches everything else).
  explicit http_metrics(std::vector<const char*> labels);

  /// Records one finished request under the label at `label_index`.
  void record(std::size_t label_index, int status, double seconds, uint64_t in,
              uint64_t out) noexcept;

  /// The labels.
  const std::vector<const char*>& labels() const noexcept {
    return labels_;
  }
  /// The figures of the label at `i`.
  const route_metrics& route(std::size_t i) const noexcept {
    return routes_[i];
  }

  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

private:
  std::vector<const char*> labels_;
  std::unique_ptr<route_metrics[]> routes_;
};

/// Figures of the connections.
struct connection_counts {
  std::size_t open = 0;      ///< open connections
  std::size_t reading = 0;   ///< of those, waiting for (the rest of) a request
  std::size_t idle = 0;      ///< of those, keep-alive between requests
  std::size_t in_worker = 0; ///< of those, with a worker or waiting for one
  std::size_t parked = 0;    ///< of those, a request parked in the loop (a long-poll)
  std::size_t following = 0; ///< of those, a follower going on in the loop
  std::size_t queued = 0;    ///< whole requests waiting for a free worker
  std::size_t workers_busy = 0; ///< workers running a request
  uint64_t read_cut = 0;    ///< closed: request not received within READ_TIMEOUT
  uint64_t idle_closed = 0; ///< closed: idle for IDLE_TIMEOUT
  uint64_t write_cut = 0;   ///< closed by the loop: no byte taken for WRITE_TIMEOUT
  uint64_t accept_errors = 0; ///< accept() failures survived (EMFILE, ENFILE, ...)
  uint64_t per_ip_refused = 0; ///< connections refused at accept for MAX_CONNS_PER_IP
  uint64_t shared_answers = 0; ///< woken long-polls answered from an identical one's rendering
};

/// Process-wide figures read from /proc.
struct process_figures {
  double uptime = 0;      ///< seconds since the HTTP metrics were created
  int64_t rss_bytes = 0;  ///< resident memory
  int64_t threads = 0;    ///< OS threads
};

/// Reads uptime (from `http.started`), RSS and threads.
process_figures read_process(const http_metrics& http);

/// Size of the file at `path`, 0 when it does not exist.
int64_t file_size(const std::string& path);

} // namespace ebuse
