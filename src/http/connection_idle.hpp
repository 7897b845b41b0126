// A worker's connection between requests (connection_idle.cpp): the brief wait for a
// client's next request, and a close that does not destroy the last response.
#pragma once

#include "http/event_loop.hpp"

namespace ebuse {

/// After a response, with nothing pipelined: while at most half of `threads` workers are
/// busy and no request waits for one, waits a moment for the client's next request and
/// appends what arrives to `c.in` (sets `c.close` if the client closed instead), rather
/// than paying a round through the loop and a second thread wake-up for it.
void linger(loop_conn& c, const loop_figures& f, int threads);

/// Closes after the last response. A client still sending (a body that was refused)
/// would get a reset on close, and a reset can destroy the response it has not read yet:
/// when input is pending, stops writing and discards input until it stops (briefly,
/// boundedly). The loop closes the descriptor once the worker gives the connection back.
void drain_and_shutdown(socket_t sock);

} // namespace ebuse
