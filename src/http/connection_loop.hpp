// The per-connection request loop of the HTTP server, replacing cpp-httplib 0.11.4's.
#pragma once

#include <cstddef>

#include <httplib.h>

namespace ebuse {

/// cpp-httplib's server with its own keep-alive loop. The library's loop (0.11.4) reads
/// each request through a fresh buffered stream, so bytes of a pipelined request that
/// arrived with the previous one are dropped and the client waits forever; and it
/// keeps a connection open after a response that says `Connection: close`, so the
/// unread rest of a rejected body is parsed as further requests. This loop keeps one
/// buffered stream per connection, closes it after any response with
/// `Connection: close`, and bounds the request head (lines of 8 KiB, 64 KiB in all;
/// the library reads a header line of any length into memory). Installs a post-routing handler: do not replace it.
class http_engine : public httplib::Server {
public:
  http_engine();

private:
  bool process_and_close_socket(socket_t sock) override;
};

/// Largest request head (request line and headers) read; larger ones get 431.
constexpr size_t max_header_bytes = 64 * 1024;

/// True while answering a request that the parser rejected because a header line was
/// longer than 8 KiB or all headers together longer than max_header_bytes (the library
/// says 400; we say 431).
bool request_headers_too_large();

/// The reason a request's framing is ambiguous (several or invalid Content-Length
/// values, or Content-Length together with Transfer-Encoding), or nullptr. Such a
/// request is answered 400 and its connection closed: a proxy in front may have
/// framed it differently (request smuggling, RFC 9112 6.3).
const char* ambiguous_framing(const httplib::Request& req);

} // namespace ebuse
