// Responses that go on in the event loop after their handler returned: the next parts of
// a chunked body (a caught-up follower's pages and heartbeats, a finite stream's pages),
// written between waits that hold no thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/connection.hpp"

namespace ebuse {

/// What a continuation did in one call of next_part().
enum class continuation_step {
  more, ///< appended bytes; called again once they are sent
  wait, ///< called its `park` argument: runs again when woken, at the deadline or shutdown
  end,  ///< appended the response's last bytes: once they are sent the connection closes
        ///< (a follower) or waits for its next request (a finite response, see finite())
  cut,  ///< failed: the connection closes now (the client sees the truncation)
};

/// For next_part(): registers what wakes the connection (`subscribe`, as for
/// park_request) and the deadline at which it runs again anyway.
using continuation_park = std::function<void(std::chrono::steady_clock::time_point deadline,
                                             const park_subscribe& subscribe)>;

/// For the request log of a finite continued response: called once with its body bytes
/// (as the library's sink was given them, chunk framing not counted) when its last part
/// is made, or when it is given up (cut, its client gone).
using response_account = std::function<void(uint64_t body_bytes)>;

/// The rest of a response, owned by its connection while the loop holds it.
struct response_continuation {
  virtual ~response_continuation() = default;
  /// A finite response (not a follower): once it ends, its connection serves the next
  /// request (keep-alive, pipelined bytes in order); a client that half-closes still
  /// receives all of it. A follower's connection closes when it ends or its client
  /// half-closes.
  virtual bool finite() const noexcept {
    return false;
  }
  /// Takes the request log's accounting for when the response ends; false: the log
  /// step accounts now.
  virtual bool account_at_end(response_account) {
    return false;
  }
  /// On a worker: when the bytes of the previous call are all sent, when woken, at the
  /// deadline, or at shutdown (`stopping`: end the response now). Appends at most one
  /// part (a page) to `out`, framed as chunks, so a slow client is never buffered for
  /// beyond one part.
  virtual continuation_step next_part(std::string& out, bool stopping,
                                      const continuation_park& park) = 0;
};

/// The chunk that ends a chunked body.
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

/// Appends `data` as one chunk, framed as the library frames a content provider's
/// writes: the size in lower-case hex, CRLF, the data, CRLF.
void append_chunk(std::string& out, std::string_view data);

/// From a chunked content provider running on a worker: what it has written so far is
/// sent now, and the rest of the response is `cont`'s (the provider then returns false;
/// whatever the library would still write is dropped). False when the response cannot
/// go on in the loop (the loop did not frame the request, or the server stops): the
/// provider goes on writing itself.
bool continue_in_loop(std::shared_ptr<response_continuation> cont);

/// Whether the current request's response went on in the loop (continue_in_loop()).
bool response_continued() noexcept;

/// From the log step of the current request: when its response went on in the loop and
/// accounts at its end, hands it `account` (true); false: account now.
bool account_when_continued(response_account account);

/// A chunked content provider whose first call hands the response to the loop as `cont`;
/// where the loop cannot take it, `step` writes the body through the library.
std::function<bool(size_t, httplib::DataSink&)>
chunked_in_loop(std::shared_ptr<response_continuation> cont,
                std::function<bool(httplib::DataSink&)> step);

/// A finite chunked body made by `step` (a chunked content provider's body: called until
/// it calls `sink.done()`, false cuts it off). At its first call the response goes on in
/// the loop, each later call one part written without holding a worker while the client
/// reads; the bytes on the wire are those the library would write. Where the loop cannot
/// take it (continue_in_loop() false), `step` writes through the library (finite_response.cpp).
std::function<bool(size_t, httplib::DataSink&)>
finite_in_loop(std::function<bool(httplib::DataSink&)> step);

/// The same for a body of `length` bytes (a content provider with a length: its bytes as
/// they are, no chunks).
httplib::ContentProvider finite_in_loop(size_t length, httplib::ContentProvider provider);

} // namespace ebuse
