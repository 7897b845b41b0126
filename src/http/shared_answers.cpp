// Answering the followers of a resumed long-poll: the connections woken in the same burst
// with byte-identical requests get the bytes of the one answer rendered for all.
#include "http/connection.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>

#include <poll.h>
#include <sys/socket.h>

namespace ebuse {

namespace {

using clock = std::chrono::steady_clock;

// From how many followers a burst's writes are split over two workers.
constexpr std::size_t split_from = 32;
// How many answered followers go back to the loop at once.
constexpr std::size_t give_back_batch = 64;

// Sends what is left of `bytes` from `done` without waiting; false when the connection
// failed.
bool send_some(socket_t fd, const std::string& bytes, std::size_t& done) {
  while (done < bytes.size()) {
    auto n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

// Sends the rest, waiting for room until `until` (WRITE_TIMEOUT, as a worker's write).
bool send_rest(socket_t fd, const std::string& bytes, std::size_t& done, clock::time_point until) {
  for (;;) {
    if (!send_some(fd, bytes, done))
      return false;
    if (done == bytes.size())
      return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 60000))) < 0
        && errno != EINTR)
      return false;
  }
}

} // namespace

void connection_server::answer_followers(std::vector<loop_conn*>& followers,
                                         const std::string* bytes) {
  if (!bytes) {
    for (auto* f : followers)
      loop_->run_on_worker(*f);
    followers.clear();
    return;
  }
  // A large burst's writes are split with a second worker: each loopback send costs the
  // kernel about as much as the whole rest of an answer, and the machine has more than
  // one core. The second half gets its own copy of the bytes (this pass's die with it).
  if (followers.size() >= split_from) {
    auto half = followers.size() / 2;
    auto copy = std::make_shared<const std::string>(*bytes);
    auto rest = std::make_shared<std::vector<loop_conn*>>(followers.begin() + half,
                                                           followers.end());
    followers.resize(half);
    loop_->run_task([this, copy, rest] { write_answers(*rest, *copy); });
  }
  write_answers(followers, *bytes);
  followers.clear();
}

void connection_server::write_answers(const std::vector<loop_conn*>& followers,
                                      const std::string& bytes) {
  // Every follower's answer is attempted without waiting first: one client slow to read
  // delays only itself and those after it in the second round.
  std::vector<std::size_t> sent(followers.size(), 0);
  std::vector<bool> ok(followers.size(), true);
  for (std::size_t i = 0; i < followers.size(); ++i)
    ok[i] = send_some(followers[i]->fd, bytes, sent[i]);
  auto now = clock::now();
  auto until = now + limits_.write_timeout;
  std::vector<loop_conn*> back;
  back.reserve(std::min(followers.size(), give_back_batch));
  for (std::size_t i = 0; i < followers.size(); ++i) {
    auto& f = *followers[i];
    if (ok[i] && sent[i] < bytes.size()) {
      // Those answered so far go back before waiting for a slow reader.
      loop_->give_back(back);
      back.clear();
      ok[i] = send_rest(f.fd, bytes, sent[i], until);
      now = clock::now();
    }
    if (ok[i]) {
      // As after a pass of its own: the request is served, what follows it is next.
      f.in.erase(0, f.resumed->request_bytes);
      ++f.requests;
      f.started = now;
      loop_->count_shared_answer();
    } else {
      ::shutdown(f.fd, SHUT_RDWR);
      f.close = true;
    }
    f.resumed.reset();
    f.scan = head_scan{};
    // Given back in batches: one wake-up of the loop for many, and the first ones still
    // go back while the rest are written.
    back.push_back(&f);
    if (back.size() == give_back_batch) {
      loop_->give_back(back);
      back.clear();
    }
  }
  loop_->give_back(back);
}

} // namespace ebuse
