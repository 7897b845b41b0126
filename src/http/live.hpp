// Live reads of the event log: the `wait` parameter, the committed head header, and the
// one function that waits for new events.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <caf/expected.hpp>
#include <httplib.h>

#include "actors/tenant.hpp"
#include "core/type_filter.hpp"
#include "http/connection.hpp"
#include "http/options.hpp"

namespace ebuse {

/// The `wait` query parameter (a Go duration or integer seconds); 0 when absent. Not a
/// duration, negative or above LONGPOLL_MAX: errc::invalid_parameter.
caf::expected<std::chrono::nanoseconds> parse_wait_param(const httplib::Request& req,
                                                         const live_options& opts);

/// The `type` query parameter (`a,b.*`); empty when absent. A bad pattern:
/// errc::invalid_parameter saying what is wrong.
caf::expected<type_filter> parse_type_param(const httplib::Request& req);

/// Sets `Ebuse-Head`: the committed head, at least `seen` (the last position a response
/// holds, which the writer may have committed a moment before publishing its head).
void set_head_header(httplib::Response& res, const tenant& t, int64_t seen = 0);

struct request_context;

/// Reads up to `limit` events of `types` in [from, to] (to < 0: unbounded) as one array
/// and sends it with `Ebuse-Head`; with a `wait`, an empty page is read again after each
/// commit until the deadline (read_handler.cpp).
void send_event_page(const httplib::Request& req, httplib::Response& res,
                     request_context& ctx, int64_t from, int64_t to, int64_t limit,
                     std::chrono::nanoseconds wait, const type_filter& types);

/// Whether a GET /events/stream asks for SSE or NDJSON (Accept) or for a follow.
bool wants_event_lines(const httplib::Request& req);

/// GET /events/stream as SSE or NDJSON from `from`: finite, or with follow=true the
/// backlog and then each commit, with heartbeats, until the client leaves or the server
/// stops (follow.cpp).
void handle_stream_lines(const httplib::Request& req, httplib::Response& res,
                         request_context& ctx, int64_t from, int64_t page_size,
                         const type_filter& types);

/// What became of a live read.
enum class live_wait {
  found,  ///< `read` answered true
  none,   ///< nothing by the deadline, or the server stops: answer what there is
  parked, ///< the request parked: return at once, it runs again when woken
};

/// What parks a live read of `t`'s event log: counted in `events_waiting`, woken by the
/// first commit past `seen` (taken by a stream_watch alive during the call, before the
/// read that found nothing) or the signal's shutdown.
park_subscribe wake_on_commit(const std::shared_ptr<tenant>& t, uint64_t seen);

/// Reads, and when `read` finds nothing, parks the request in the event loop until a
/// commit of `t`'s writer, the deadline (`wait` from the request's first pass) or
/// shutdown; the request then runs again and this call reads again: found, or none when
/// the deadline passed or the server stops (a filtered read whose new events all have
/// other types parks again until its deadline). A request the loop cannot park waits on
/// its thread (wait_for_events).
live_wait wait_or_park(const std::shared_ptr<tenant>& t, std::chrono::nanoseconds wait,
                       const std::function<bool()>& read);

/// For a follower: as wait_for_events, but the wait also ends, returning false with
/// `client_left` set, as soon as the client of the current request closes its connection.
bool follow_events(tenant& t, std::chrono::steady_clock::time_point deadline,
                   const std::function<bool()>& read, bool& client_left);

/// Calls `read` until it answers true (it found events, or failed), then returns true;
/// between calls, waits for a commit of the tenant's writer that appended events. Returns
/// false when `deadline` passes or the server shuts down first.
///
/// This is where a live read waits on its worker thread (a follow; a request the loop
/// cannot park): the version of the event log's signal is taken before each read, so a
/// commit between the read and the wait is not missed, and SQLite is read only after a
/// commit.
bool wait_for_events(tenant& t, std::chrono::steady_clock::time_point deadline,
                     const std::function<bool()>& read);

} // namespace ebuse
