// The thread-local state of the request a worker thread serves.
#include "http/request_state.hpp"

namespace ebuse {

namespace {

thread_local request_state current;

} // namespace

request_state& current_request() noexcept {
  return current;
}

// Field by field: the strings keep their buffers from one request to the next.
void begin_request(const std::string& peer) {
  auto& c = current;
  c.start = std::chrono::steady_clock::now();
  c.client = peer;
  c.accepts_gzip = false;
  c.body_bytes = 0;
  c.headers = request_headers{};
  c.routed = false;
  c.api_key = {};
  c.t.reset();
  c.admin = false;
  c.admitted = false;
  c.body_read = false;
}

} // namespace ebuse
