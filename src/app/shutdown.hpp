// Graceful shutdown: stop accepting, give in-flight requests SHUTDOWN_TIMEOUT, then cut.
#pragma once

#include <chrono>
#include <memory>
#include <string_view>

namespace ebuse {

class http_server;

/// Drives the shutdown of one server on SIGINT/SIGTERM. Thread-safe.
class shutdown_control {
public:
  shutdown_control();

  /// Begins the shutdown of `server` (once; later calls are ignored): it stops
  /// accepting and closes idle connections at once; in-flight requests may finish
  /// within `grace`, after which the connections still open are cut. If the process
  /// is still alive `grace` + `backstop` after this call, it exits with status 1.
  void begin(http_server& server, std::chrono::nanoseconds grace, std::string_view reason,
             std::chrono::nanoseconds backstop = std::chrono::seconds(10));

  /// To call once server.run() returned: from then on the timer leaves the server alone.
  void served();

  /// True when the grace period ran out and open connections were cut.
  bool forced() const;

private:
  struct state;
  std::shared_ptr<state> st_;
};

} // namespace ebuse
