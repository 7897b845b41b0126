// Glue between cpp-httplib and the Durable Streams protocol layer (HTTP layer only).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <httplib.h>

#include "http/continuation.hpp"
#include "http/handlers.hpp"
#include "streams/response.hpp"
#include "streams/types.hpp"

namespace ebuse {

/// Writes `r` (status, headers, body) into `res`.
void send_stream_response(httplib::Response& res, const streams::response& r);

/// The stream path of the request (URL-decoded, after the route's prefix); a 400 is sent
/// and nothing returned when it is not a valid stream path.
std::optional<std::string> stream_path_of(const httplib::Request& req, httplib::Response& res,
                                          const request_context& ctx);

/// A request header, or nullopt when absent.
std::optional<std::string> header_of(const httplib::Request& req, const char* name);

/// Sends `cmd` to the tenant's writer and waits (REQUEST_TIMEOUT).
caf::expected<streams::write_result> stream_write(request_context& ctx, stream_write_cmd cmd);

/// Reads through one of the tenant's readers and waits (REQUEST_TIMEOUT).
caf::expected<streams::read_result> stream_read(request_context& ctx, streams::read_request req);

/// After a read of a stream with a TTL, tells the writer (sliding expiry). Only when the
/// stored last access is old enough to matter (a hundredth of the TTL), so that busy
/// readers do not turn every read into a write.
void touch_after_read(request_context& ctx, const streams::read_result& rr);

/// Waits until the stream at `path` (internal id `stream_id`) has data past `from`, is
/// closed there, is deleted, or `deadline` passes (or the server stops), and answers
/// the last read, blocking the calling worker thread on the tenant's stream_signal (an
/// SSE response; a long-poll the event loop cannot park). In stream_wait.cpp.
caf::expected<streams::read_result> wait_for_data(request_context& ctx, const std::string& path,
                                                  streams::offset from, int64_t stream_id,
                                                  std::chrono::steady_clock::time_point deadline);

/// Where a long-poll parked: the offset it waits past and the stream it watches.
struct stream_wait_point {
  streams::offset from;
  int64_t stream_id = 0;
};

/// For a long-poll: reads past `from`, and when there is nothing yet, parks the request
/// in the event loop (`parked` set: return at once, the request runs again when the
/// stream changes, at `deadline`, or at shutdown; resumed_stream_wait() then says where
/// to read). A pass that cannot park waits on its thread as wait_for_data(), except a
/// resumed one (the server stops), which answers its read at once.
caf::expected<streams::read_result>
wait_or_park_for_data(request_context& ctx, const std::string& path, streams::offset from,
                      int64_t stream_id, std::chrono::steady_clock::time_point deadline,
                      bool& parked);

/// What wakes a response waiting past version `seen` of stream `stream_id` (counted in
/// the tenant's `stream_waiting` while registered), for park_request() or a continuation.
park_subscribe wake_on_stream_change(const std::shared_ptr<tenant>& t, int64_t stream_id,
                                     uint64_t seen);

/// For an SSE response going on in the loop: reads past `from`, and when there is
/// nothing yet and `deadline` has not passed, calls `park` with what wakes it (`parked`
/// set: the continuation waits, its read is not used).
caf::expected<streams::read_result>
read_or_park_in_loop(request_context& ctx, const std::string& path, streams::offset from,
                     int64_t stream_id, std::chrono::steady_clock::time_point deadline,
                     const continuation_park& park, bool& parked);

/// The wait point of the current request when it runs again after parking in
/// wait_or_park_for_data(); nullopt on its first pass.
std::optional<stream_wait_point> resumed_stream_wait();

} // namespace ebuse
