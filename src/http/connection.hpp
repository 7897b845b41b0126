// Connections of the HTTP server: cpp-httplib's request processing over our own
// keep-alive loop and socket stream, which enforce what the library does not.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <httplib.h>

#include "http/request_head.hpp"
#include "http/socket_stream.hpp"

namespace ebuse {

/// Deadlines and sizes of connections.
struct connection_limits {
  /// A whole request (line, headers, body) must arrive within this from its first byte;
  /// on a new connection, from the start of its processing. (cpp-httplib only bounds
  /// each read, so a client trickling a byte a second would hold a worker forever.)
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(30);
  /// A write that makes no progress for this long fails and closes the connection.
  std::chrono::nanoseconds write_timeout = std::chrono::seconds(60);
  /// A keep-alive connection idle for this long between requests is closed.
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds(120);
  /// Worker threads; each serves one connection at a time.
  int threads = 128;
  /// Requests served on one connection before it is closed.
  std::size_t keep_alive_max = 10000;
};

/// Figures of the connections, for logs and tests.
struct connection_counts {
  std::size_t open = 0;     ///< connections held by a worker
  std::size_t idle = 0;     ///< of those, waiting for a request
  std::size_t queued = 0;   ///< accepted, waiting for a free worker
  uint64_t read_cut = 0;    ///< closed: request not received within READ_TIMEOUT
  uint64_t idle_closed = 0; ///< closed: idle for IDLE_TIMEOUT
  uint64_t shed = 0;        ///< idle connections closed to free a worker for a new one
};

/// Marks the response to close its connection (`Connection: close`) and makes the
/// connection loop close it after sending. The only way that header is set: the
/// library would keep the connection open and read the unread rest of a refused body
/// as the next request.
void close_after_response(httplib::Response& res);

/// The reason a request's framing is ambiguous (several or invalid Content-Length
/// values, or Content-Length together with Transfer-Encoding), or nullptr. Such a request
/// is answered 400 and its connection closed: a proxy in front may have framed it
/// differently (request smuggling, RFC 9112 6.3).
const char* ambiguous_framing(const request_head& head);

/// Sends what the current thread's response has buffered (its head and short body go
/// out together at the end of the response or when this is called).
void flush_response();

/// For a body its handler reads as a stream (an import of any size): from now on the
/// rest of the request must make progress within READ_TIMEOUT instead of arriving
/// whole within it. Called for each piece read.
void renew_read_deadline();

/// Whether the client of the current thread's request has closed or reset its
/// connection (checked without blocking), for work done before a response starts.
bool client_disconnected();

/// True while the current thread's request exceeded READ_TIMEOUT (for the 408 answer).
bool current_request_timed_out() noexcept;

/// A cpp-httplib server whose connections run our loop: precise read and idle
/// deadlines, idle connections closed at once when a new connection waits for a
/// worker, and control over every open connection for shutdown.
class connection_server : public httplib::Server {
public:
  explicit connection_server(connection_limits limits);
  ~connection_server() override;

  /// For shutdown: closes every idle connection now; busy ones close after their
  /// current response.
  void close_idle();

  /// For the end of the shutdown grace period: cuts every open connection.
  void close_all();

  connection_counts counts() const;

  /// The open connections (defined in connection.cpp).
  struct registry;

private:
  bool process_and_close_socket(socket_t sock) override;

  connection_limits limits_;
  std::shared_ptr<registry> reg_;
};

} // namespace ebuse
