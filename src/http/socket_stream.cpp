// Socket reads and writes with deadlines; data is tried first, poll() only when none.
#include "http/socket_stream.hpp"

#include <cerrno>
#include <cstring>
#include <string_view>

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace ebuse {

namespace {

void address_of(const sockaddr_storage& addr, socklen_t len, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof(host), nullptr,
                  0, NI_NUMERICHOST)
      == 0)
    ip = host;
  if (addr.ss_family == AF_INET)
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  else if (addr.ss_family == AF_INET6)
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
}

} // namespace

socket_stream::socket_stream(socket_t sock, std::chrono::nanoseconds write_timeout)
  : sock_(sock), write_timeout_(write_timeout) {
}

int socket_stream::wait(short events, clock::time_point until) const {
  for (;;) {
    auto now = clock::now();
    if (now >= until)
      return 0;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1;
    pollfd p{sock_, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(ms, 60000)));
    if (n > 0)
      return (p.revents & (events | POLLHUP | POLLERR)) ? 1 : -1;
    if (n < 0 && errno != EINTR)
      return -1;
  }
}

void socket_stream::preload(std::string bytes) {
  pre_ = std::move(bytes);
  pre_off_ = 0;
  discard_ = false;
  swallow_continue_ = false;
}

std::string socket_stream::take_all() {
  std::string out = std::move(pre_);
  out.append(buf_ + off_, len_ - off_);
  pre_.clear();
  pre_off_ = off_ = len_ = 0;
  return out;
}

std::string socket_stream::take_buffered() {
  std::string out = pre_.substr(pre_off_);
  out.append(buf_ + off_, len_ - off_);
  pre_.clear();
  pre_off_ = off_ = len_ = 0;
  return out;
}

void socket_stream::set_remote(std::string ip, int port) {
  remote_.known = true;
  remote_.ip = std::move(ip);
  remote_.port = port;
}

bool socket_stream::is_readable() const {
  return pre_off_ < pre_.size() || off_ < len_ || eof_ || wait(POLLIN, read_deadline_) > 0;
}

bool socket_stream::is_writable() const {
  return !write_failed_ && wait(POLLOUT, clock::now() + write_timeout_) > 0;
}

namespace {

// Set when the request being read on this thread exceeded a header limit; each
// connection is served start to finish by one worker thread.
thread_local bool headers_too_large = false;

} // namespace

bool request_headers_too_large() noexcept {
  return headers_too_large;
}

void socket_stream::start_request() noexcept {
  in_headers_ = true;
  first_line_ = true;
  cut_line_ = false;
  line_len_ = 0;
  header_bytes_ = 0;
  raw_headers_.clear();
  headers_percent_ = false;
  headers_too_large = false;
}

// The library reads the request line and headers one byte at a time, and reads a line of
// any length into memory before it rejects it: lines are cut right past max_line_bytes
// (the library then rejects the request), and past max_header_bytes the read fails.
ssize_t socket_stream::read_header_byte(char* ptr) {
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
  if (!first_line_) {
    raw_headers_.push_back(*ptr);
    headers_percent_ |= *ptr == '%';
  }
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

ssize_t socket_stream::read(char* ptr, size_t size) {
  if (in_headers_ && size == 1)
    return read_header_byte(ptr);
  in_headers_ = false;
  return read_raw(ptr, size);
}

ssize_t socket_stream::read_raw(char* ptr, size_t size) {
  if (pre_off_ < pre_.size()) {
    size_t n = std::min(size, pre_.size() - pre_off_);
    std::memcpy(ptr, pre_.data() + pre_off_, n);
    pre_off_ += n;
    return static_cast<ssize_t>(n);
  }
  if (off_ < len_) {
    size_t n = std::min(size, len_ - off_);
    std::memcpy(ptr, buf_ + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }
  if (eof_)
    return 0;
  if (read_failed_)
    return -1;
  // Whatever we wrote must be out before we wait for the peer (`100 Continue`).
  if (!flush())
    return -1;
  for (;;) {
    // Small reads (the library reads lines byte by byte) go through the buffer.
    bool buffered = size < sizeof(buf_);
    ssize_t n = ::recv(sock_, buffered ? buf_ : ptr, buffered ? sizeof(buf_) : size,
                       MSG_DONTWAIT);
    if (n > 0) {
      if (!buffered)
        return n;
      size_t take = std::min(size, static_cast<size_t>(n));
      std::memcpy(ptr, buf_, take);
      off_ = take;
      len_ = static_cast<size_t>(n);
      return static_cast<ssize_t>(take);
    }
    if (n == 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      read_failed_ = true;
      return -1;
    }
    int ready = wait(POLLIN, read_deadline_);
    if (ready <= 0) {
      timed_out_ = ready == 0;
      read_failed_ = true;
      return -1;
    }
  }
}

ssize_t socket_stream::write(const char* ptr, size_t size) {
  if (discard_)
    return static_cast<ssize_t>(size);
  if (swallow_continue_) {
    swallow_continue_ = false;
    constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
    if (std::string_view{ptr, size} == interim)
      return static_cast<ssize_t>(size);
  }
  if (write_failed_)
    return -1;
  if (capture_)
    capture_->append(ptr, size);
  if (out_len_ + size <= out_capacity) {
    std::memcpy(out_ + out_len_, ptr, size);
    out_len_ += size;
    return static_cast<ssize_t>(size);
  }
  return send_all(ptr, size) ? static_cast<ssize_t>(size) : -1;
}

bool socket_stream::flush() {
  return out_len_ == 0 || send_all(nullptr, 0);
}

bool socket_stream::send_all(const char* ptr, size_t size) {
  if (write_failed_)
    return false;
  iovec iov[2] = {{out_, out_len_}, {const_cast<char*>(ptr), size}};
  iovec* first = out_len_ > 0 ? iov : iov + 1;
  int count = static_cast<int>(iov + (size > 0 ? 2 : 1) - first);
  msghdr msg{};
  while (count > 0) {
    msg.msg_iov = first;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t n = ::sendmsg(sock_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if ((errno != EAGAIN && errno != EWOULDBLOCK)
          || wait(POLLOUT, clock::now() + write_timeout_) <= 0) {
        write_failed_ = true;
        out_len_ = 0;
        return false;
      }
      continue;
    }
    auto sent = static_cast<size_t>(n);
    while (count > 0 && sent >= first->iov_len) {
      sent -= first->iov_len;
      ++first;
      --count;
    }
    if (count > 0) {
      first->iov_base = static_cast<char*>(first->iov_base) + sent;
      first->iov_len -= sent;
    }
  }
  out_len_ = 0;
  return true;
}

// The library asks for both addresses on every request; each is looked up (a system
// call and a text conversion) once per connection.
void socket_stream::endpoint::get(socket_t sock, name_fn lookup, std::string& ip_out,
                                  int& port_out) {
  if (!known) {
    sockaddr_storage addr;
    socklen_t len = sizeof(addr);
    if (lookup(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      address_of(addr, len, ip, port);
    known = true;
  }
  ip_out = ip;
  port_out = port;
}

void socket_stream::get_remote_ip_and_port(std::string& ip, int& port) const {
  remote_.get(sock_, ::getpeername, ip, port);
}

void socket_stream::get_local_ip_and_port(std::string& ip, int& port) const {
  local_.get(sock_, ::getsockname, ip, port);
}

} // namespace ebuse
