// The byte stream of one connection: buffered reads under a request deadline, writes
// under a progress timeout.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <httplib.h>

namespace ebuse {

/// Longest request or header line read; a longer one is cut and rejected.
constexpr size_t max_line_bytes = 8192;

/// Largest request line and headers read together; larger ones get 431.
constexpr size_t max_header_bytes = 64 * 1024;

/// True while answering a request the parser rejected because a header line was longer
/// than max_line_bytes, or the request line and headers together longer than
/// max_header_bytes (the library says 400; the server answers 431).
bool request_headers_too_large() noexcept;

/// A connection's stream as cpp-httplib reads and writes it.
class socket_stream : public httplib::Stream {
public:
  using clock = std::chrono::steady_clock;

  socket_stream(socket_t sock, std::chrono::nanoseconds write_timeout);

  /// Reads fail once `deadline` has passed.
  void set_read_deadline(clock::time_point deadline) noexcept {
    read_deadline_ = deadline;
  }

  /// Puts bytes the event loop already read in front of what the socket delivers.
  /// Only while nothing else is buffered (a fresh stream, or after take_buffered()).
  void preload(std::string bytes);

  /// Removes and returns the bytes read but not consumed (pipelined requests).
  std::string take_buffered();

  /// Removes and returns every byte buffered, the consumed preloaded ones included: for
  /// a request parked to run again later, its whole text and what follows it.
  std::string take_all();

  /// From now until the next preload(), writes are dropped: the response of a request
  /// that parked is never sent (it runs again and answers when woken).
  void discard_output() noexcept {
    discard_ = true;
    out_len_ = 0;
  }

  /// Drops the next write if it is exactly an interim `100 Continue`: a request that runs
  /// again had its head answered on its first pass, and the library sends one for the
  /// head each time it reads it (a 100 may be left out once the final answer follows).
  void swallow_continue() noexcept {
    swallow_continue_ = true;
  }

  /// Until called again with null, appends every byte written (the response of a
  /// request whose rendering answers identical requests too) to `*into`.
  void capture_output(std::string* into) noexcept {
    capture_ = into;
  }

  /// True once a read saw the peer close its side.
  bool peer_closed() const noexcept {
    return eof_;
  }

  /// The peer's address as the accept loop learned it (no getpeername() per stream).
  void set_remote(std::string ip, int port);

  /// Sends the bytes buffered by write(). Small writes (the status line and headers, short bodies,
  /// chunk framing) are kept until a large write or the end of the response and go out
  /// in one writev(): a typical response is one system call and one TCP segment.
  bool flush();

  /// True once a read missed its deadline (the request took too long to arrive).
  bool timed_out() const noexcept {
    return timed_out_;
  }

  /// True once a read or write failed; the connection must not be reused.
  bool broken() const noexcept {
    return read_failed_ || write_failed_;
  }

  /// Starts counting the request line and headers of the next request.
  void start_request() noexcept;

  /// The header lines of the current request as they arrived (after its request line),
  /// and whether one holds a '%': the library URL-decodes the header values it reads.
  const std::string& raw_headers() const noexcept {
    return raw_headers_;
  }
  bool headers_hold_percent() const noexcept {
    return headers_percent_;
  }

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override {
    return sock_;
  }

private:
  // poll() for `events` until `until`; 1 ready, 0 timeout, -1 error.
  int wait(short events, clock::time_point until) const;

  socket_t sock_;
  std::chrono::nanoseconds write_timeout_;
  clock::time_point read_deadline_ = clock::time_point::max();
  bool timed_out_ = false;
  bool read_failed_ = false;  ///< an answer (408, 400) may still be written
  bool write_failed_ = false;
  ssize_t read_raw(char* ptr, size_t size);
  ssize_t read_header_byte(char* ptr);
  // Sends the buffered bytes and then [ptr, ptr + size) in as few writev() as possible.
  bool send_all(const char* ptr, size_t size);

  using name_fn = int (*)(int, sockaddr*, socklen_t*);
  struct endpoint {
    bool known = false;
    std::string ip;
    int port = 0;
    void get(socket_t sock, name_fn lookup, std::string& ip_out, int& port_out);
  };
  mutable endpoint remote_; ///< looked up on first use
  mutable endpoint local_;
  bool eof_ = false;                        ///< the peer closed (seen while waiting)
  bool discard_ = false;                    ///< see discard_output()
  bool swallow_continue_ = false;           ///< see swallow_continue()
  std::string* capture_ = nullptr;          ///< see capture_output()
  std::string pre_; ///< bytes the loop read, consumed before buf_
  size_t pre_off_ = 0;
  static constexpr size_t out_capacity = 16 * 1024;
  char out_[out_capacity];
  size_t out_len_ = 0;

  bool in_headers_ = false;
  bool first_line_ = false;
  bool cut_line_ = false; ///< '\r' of a cut line was returned, '\n' is next
  size_t line_len_ = 0;
  size_t header_bytes_ = 0;
  std::string raw_headers_;
  bool headers_percent_ = false;
  char buf_[4096];
  size_t off_ = 0;
  size_t len_ = 0;
};

} // namespace ebuse
