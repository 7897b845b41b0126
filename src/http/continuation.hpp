// Responses that go on in the event loop after their handler returned: the next parts of
// a chunked body (a caught-up follower's pages and heartbeats), written between waits
// that hold no thread.
#pragma once

#include <chrono>
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
  end,  ///< appended the response's last bytes: the connection closes once they are sent
  cut,  ///< failed: the connection closes now (the client sees the truncation)
};

/// For next_part(): registers what wakes the connection (`subscribe`, as for
/// park_request) and the deadline at which it runs again anyway.
using continuation_park = std::function<void(std::chrono::steady_clock::time_point deadline,
                                             const park_subscribe& subscribe)>;

/// The rest of a response, owned by its connection while the loop holds it.
struct response_continuation {
  virtual ~response_continuation() = default;
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

} // namespace ebuse
