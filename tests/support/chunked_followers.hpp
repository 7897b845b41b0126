// Many raw follow connections read by one thread: each response's head and its chunked
// body decoded strictly (a framing error fails the test), for tests of followers that
// go on in the event loop.
#pragma once

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

#include "support/raw_socket.hpp"

namespace ebuse::test {

/// One follow response as its bytes arrive.
struct chunked_response {
  std::string raw;    ///< every byte received
  std::string body;   ///< the chunks' data so far
  bool ended = false; ///< the last chunk arrived
  bool closed = false; ///< the server closed the connection
  bool bad = false;   ///< bytes that are not the head of a chunked 200 or a chunk
  std::size_t at = 0; ///< in `raw`: where the next chunk starts (0: head not seen)

  /// Decodes what arrived whole, exactly as the chunked framing says.
  void decode() {
    if (at == 0) {
      auto end = raw.find("\r\n\r\n");
      if (end == std::string::npos)
        return;
      auto head = raw.substr(0, end);
      bad = head.rfind("HTTP/1.1 200 OK\r\n", 0) != 0
            || head.find("Transfer-Encoding: chunked") == std::string::npos;
      at = end + 4;
    }
    while (!bad && !ended) {
      auto eol = raw.find("\r\n", at);
      if (eol == std::string::npos)
        return;
      auto size_text = raw.substr(at, eol - at);
      char* stop = nullptr;
      auto size = std::strtoul(size_text.c_str(), &stop, 16);
      if (size_text.empty() || *stop != '\0' || size_text.find_first_not_of("0123456789abcdef")
                                                   != std::string::npos) {
        bad = true;
        return;
      }
      if (raw.size() < eol + 2 + size + 2)
        return;
      if (raw.compare(eol + 2 + size, 2, "\r\n") != 0) {
        bad = true;
        return;
      }
      body.append(raw, eol + 2, size);
      at = eol + 2 + size + 2;
      ended = size == 0;
    }
    if (ended && raw.size() > at)
      bad = true; // nothing may follow the last chunk
  }
};

/// `n` connections that each sent `request`, read together.
class chunked_followers {
public:
  chunked_followers(int port, int n, const std::string& request, int rcvbuf = 0) {
    for (int i = 0; i < n; ++i) {
      socks_.push_back(std::make_unique<raw_socket>(port, rcvbuf));
      socks_.back()->send(request);
      responses_.emplace_back();
    }
  }

  std::size_t size() const {
    return socks_.size();
  }
  chunked_response& operator[](std::size_t i) {
    return responses_[i];
  }
  raw_socket& socket(std::size_t i) {
    return *socks_[i];
  }

  /// Closes connection `i` from the client's side.
  void close(std::size_t i) {
    socks_[i]->close();
    responses_[i].closed = true;
  }

  /// Reads every open connection (but those in `skip`) until `done(response)` holds for
  /// each, or `limit` passes; true when it holds for all.
  template <class Pred>
  bool read_until(Pred done, std::chrono::milliseconds limit,
                  const std::vector<std::size_t>& skip = {}) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      std::vector<pollfd> fds;
      std::vector<std::size_t> which;
      bool all = true;
      for (std::size_t i = 0; i < socks_.size(); ++i) {
        if (std::find(skip.begin(), skip.end(), i) != skip.end())
          continue;
        auto& r = responses_[i];
        if (done(r))
          continue;
        all = false;
        if (!r.closed) {
          fds.push_back({socks_[i]->fd(), POLLIN, 0});
          which.push_back(i);
        }
      }
      if (all)
        return true;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || fds.empty())
        return false;
      if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) <= 0)
        continue;
      for (std::size_t k = 0; k < fds.size(); ++k) {
        if (!fds[k].revents)
          continue;
        auto& r = responses_[which[k]];
        char buf[65536];
        auto got = ::recv(fds[k].fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (got > 0) {
          r.raw.append(buf, static_cast<std::size_t>(got));
          r.decode();
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          r.closed = true;
        }
      }
    }
  }

private:
  std::vector<std::unique_ptr<raw_socket>> socks_;
  std::vector<chunked_response> responses_;
};

} // namespace ebuse::test
