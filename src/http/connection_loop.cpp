// A keep-alive loop over one buffered stream per connection; see connection_loop.hpp.
#include "http/connection_loop.hpp"

#include <algorithm>
#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ebuse {

namespace {

// Set by the post-routing handler of the request being answered on this thread; each
// connection is served start to finish by one worker thread.
thread_local bool close_requested = false;
// Set when the request being read on this thread exceeded a header limit.
thread_local bool headers_too_large = false;

// The library rejects longer request and header lines (414, 400), but only after
// reading the whole line into memory; lines are cut here, right past the limit.
constexpr size_t max_line_bytes = 8192;

bool wait_for(socket_t sock, short events, time_t sec, time_t usec) {
  pollfd p{sock, events, 0};
  int ms = static_cast<int>(sec * 1000 + usec / 1000);
  for (;;) {
    int rc = ::poll(&p, 1, ms);
    if (rc < 0 && errno == EINTR)
      continue;
    return rc > 0;
  }
}

void address_of(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? ::getpeername(sock, sa, &len) : ::getsockname(sock, sa, &len)) != 0)
    return;
  char host[NI_MAXHOST];
  char serv[NI_MAXSERV];
  if (::getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV)
      == 0) {
    ip = host;
    port = std::atoi(serv);
  }
}

/// A socket stream whose read buffer lives as long as the connection.
class buffered_stream final : public httplib::Stream {
public:
  buffered_stream(socket_t sock, time_t rs, time_t rus, time_t ws, time_t wus)
    : sock_(sock), rs_(rs), rus_(rus), ws_(ws), wus_(wus) {
  }

  bool buffered() const {
    return off_ < len_;
  }

  /// Starts counting the header bytes of a new request.
  void start_request() {
    in_headers_ = true;
    first_line_ = true;
    line_len_ = 0;
    header_bytes_ = 0;
    cut_line_ = false;
    headers_too_large = false;
  }

  /// True when a next request has started to arrive within `sec` seconds.
  bool wait_request(time_t sec) const {
    return buffered() || wait_for(sock_, POLLIN, sec, 0);
  }

  bool is_readable() const override {
    return buffered() || wait_for(sock_, POLLIN, rs_, rus_);
  }

  bool is_writable() const override {
    if (!wait_for(sock_, POLLOUT, ws_, wus_))
      return false;
    // A peer that has gone away: a zero-byte read with nothing buffered.
    char c;
    return ::recv(sock_, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0;
  }

  ssize_t read(char* ptr, size_t size) override {
    // The library reads the request line and headers one byte at a time.
    if (in_headers_ && size == 1)
      return read_header_byte(ptr);
    in_headers_ = false;
    return read_raw(ptr, size);
  }

  ssize_t read_raw(char* ptr, size_t size) {
    if (!buffered()) {
      if (!wait_for(sock_, POLLIN, rs_, rus_))
        return -1;
      if (size >= sizeof(buf_))
        return recv_some(ptr, size);
      auto n = recv_some(buf_, sizeof(buf_));
      if (n <= 0)
        return n;
      off_ = 0;
      len_ = static_cast<size_t>(n);
    }
    auto n = std::min(size, len_ - off_);
    std::memcpy(ptr, buf_ + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!wait_for(sock_, POLLOUT, ws_, wus_))
      return -1;
    for (;;) {
      auto n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, true, ip, port);
  }

  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, false, ip, port);
  }

  socket_t socket() const override {
    return sock_;
  }

private:
  // Enforces the header limits: a line longer than max_line_bytes is ended early (the
  // library then rejects it), and past max_header_bytes the read fails.
  ssize_t read_header_byte(char* ptr) {
    if (header_bytes_ >= max_header_bytes) {
      headers_too_large = true;
      return -1;
    }
    if (line_len_ > max_line_bytes) {
      // CRLF: the library skips lines ending in a bare LF instead of rejecting them.
      if (!first_line_)
        headers_too_large = true;
      *ptr = cut_line_ ? '\n' : '\r';
      cut_line_ = !cut_line_;
    } else {
      auto n = read_raw(ptr, 1);
      if (n <= 0)
        return n;
    }
    ++header_bytes_;
    if (*ptr == '\n') {
      if (line_len_ == 0 && !first_line_)
        in_headers_ = false; // the blank line: the body follows
      first_line_ = false;
      line_len_ = 0;
    } else if (*ptr != '\r') {
      ++line_len_;
    }
    return 1;
  }

  ssize_t recv_some(char* ptr, size_t size) {
    for (;;) {
      auto n = ::recv(sock_, ptr, size, 0);
      if (n < 0 && errno == EINTR)
        continue;
      return n;
    }
  }

  socket_t sock_;
  time_t rs_, rus_, ws_, wus_;
  char buf_[4096];
  size_t off_ = 0;
  size_t len_ = 0;
  bool in_headers_ = false;
  bool first_line_ = false;
  bool cut_line_ = false; // '\r' of the cut was returned, '\n' is next
  size_t line_len_ = 0;
  size_t header_bytes_ = 0;
};

} // namespace

http_engine::http_engine() {
  set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.get_header_value("Connection") == "close")
      close_requested = true;
  });
}

bool http_engine::process_and_close_socket(socket_t sock) {
  buffered_stream strm{sock, read_timeout_sec_, read_timeout_usec_, write_timeout_sec_,
                       write_timeout_usec_};
  bool ret = false;
  for (size_t left = keep_alive_max_count_;
       left > 0 && svr_sock_ != INVALID_SOCKET && strm.wait_request(keep_alive_timeout_sec_);
       --left) {
    close_requested = false;
    strm.start_request();
    bool connection_closed = false;
    ret = process_request(strm, left == 1, connection_closed, nullptr);
    if (!ret || connection_closed || close_requested)
      break;
  }
  close_requested = false;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ret;
}

bool request_headers_too_large() {
  return headers_too_large;
}

const char* ambiguous_framing(const httplib::Request& req) {
  auto lengths = req.headers.equal_range("Content-Length");
  auto count = std::distance(lengths.first, lengths.second);
  if (count > 1)
    return "more than one Content-Length header";
  if (count == 1) {
    const auto& v = lengths.first->second;
    if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
      return "Content-Length is not a decimal number";
    if (req.has_header("Transfer-Encoding"))
      return "both Content-Length and Transfer-Encoding";
  }
  if (req.get_header_value_count("Transfer-Encoding") > 1)
    return "more than one Transfer-Encoding header";
  return nullptr;
}

} // namespace ebuse
