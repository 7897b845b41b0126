// Running a connection's buffered requests on a worker, and the thread-local helpers
// of the request it runs.
#include "http/connection.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/connection_idle.hpp"
#include "http/continuation.hpp"
#include "http/request_state.hpp"
#include "http/socket_stream.hpp"

namespace ebuse {

namespace {

constexpr bool same_text(const char* a, const char* b) {
  return *a == *b && (*a == '\0' || same_text(a + 1, b + 1));
}

// run_requests() relies on the protected process_request(Stream&, ...) of this version.
static_assert(same_text(CPPHTTPLIB_VERSION, "0.11.4"), "cpp-httplib 0.11.4 expected");

// Set by the post-routing handler of the request answered on this thread.
thread_local bool close_requested = false;

} // namespace

void close_after_response(httplib::Response& res) {
  if (res.get_header_value("Connection") != "close")
    res.set_header("Connection", "close");
  close_requested = true;
}

namespace {

using clock = std::chrono::steady_clock;

thread_local socket_stream* current_stream = nullptr;
thread_local std::chrono::nanoseconds current_read_timeout{0};

// The pass of the request this thread runs, for parking.
struct park_pass {
  loop_conn* conn = nullptr;
  event_loop* loop = nullptr;
  bool parkable = false;                 ///< the loop framed the whole request
  bool body_may_wait = false;            ///< a 100-continue head whose body the loop may read
  std::shared_ptr<park_ticket> resumed;  ///< it runs again after this park
  std::shared_ptr<park_ticket> parked;   ///< it parked during this pass
  std::vector<loop_conn*> followers;     ///< identical requests woken with it
  bool shared = false;                   ///< its response answers the followers
  std::shared_ptr<response_continuation> continued; ///< its response goes on in the loop
};
thread_local park_pass current_pass;

// No response of this API is served in byte ranges (a range is allowed to be ignored):
// every answer is whole, as the Go server's, and a backup resumed with `Range` would
// splice two different copies. The library has parsed `Range` by now; it is forgotten.
//
// The library URL-decodes header values; those holding a '%' are put back as sent.
void prepare_request(httplib::Request& req) {
  req.ranges.clear();
  if (current_stream && current_stream->headers_hold_percent())
    restore_raw_header_values(req, current_stream->raw_headers());
}

} // namespace

void flush_response() {
  if (current_stream)
    current_stream->flush();
}

void renew_read_deadline() {
  if (current_stream)
    current_stream->set_read_deadline(clock::now() + current_read_timeout);
}

bool client_disconnected() {
  if (!current_stream)
    return false;
  pollfd p{current_stream->socket(), POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0)
    return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

wait_result wait_or_hangup(int fd, std::chrono::steady_clock::time_point deadline) {
  socket_t sock = current_stream ? current_stream->socket() : INVALID_SOCKET;
  for (;;) {
    auto now = clock::now();
    if (now >= deadline)
      return wait_result::deadline;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    pollfd p[2] = {{fd, POLLIN, 0}, {sock, POLLRDHUP, 0}};
    int n = ::poll(p, sock == INVALID_SOCKET ? 1 : 2,
                   static_cast<int>(std::min<long long>(ms, 60000)));
    if (n < 0 && errno != EINTR)
      return wait_result::deadline;
    if (n <= 0)
      continue;
    if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
      return wait_result::hangup;
    if (p[0].revents)
      return wait_result::ready;
  }
}

bool current_request_timed_out() noexcept {
  return current_stream && current_stream->timed_out();
}

bool park_request(std::chrono::steady_clock::time_point deadline,
                  const park_subscribe& subscribe, std::shared_ptr<const void> note) {
  auto& p = current_pass;
  if (!p.conn || !p.parkable || p.parked || !p.loop->parking())
    return false;
  auto t = std::make_shared<park_ticket>();
  t->conn = p.conn;
  t->deadline = deadline;
  t->start = current_request().start;
  t->note = std::move(note);
  t->release = subscribe(p.loop->waker(t));
  p.parked = std::move(t);
  current_stream->discard_output();
  return true;
}

bool wait_for_body_in_loop() {
  auto& p = current_pass;
  if (!p.conn || !p.body_may_wait || p.parked || !p.loop->parking())
    return false;
  constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
  if (current_stream->write(interim.data(), interim.size()) < 0 || !current_stream->flush())
    return false;
  auto t = std::make_shared<park_ticket>();
  t->conn = p.conn;
  t->start = current_request().start;
  t->for_body = true;
  p.parked = std::move(t);
  current_stream->discard_output();
  return true;
}

bool request_resumed() noexcept {
  return current_pass.resumed != nullptr && !current_pass.resumed->for_body;
}

bool request_admitted_before() noexcept {
  return current_pass.resumed != nullptr;
}

std::chrono::steady_clock::time_point resumed_deadline() noexcept {
  return current_pass.resumed ? current_pass.resumed->deadline
                              : std::chrono::steady_clock::time_point::max();
}

const std::shared_ptr<const void>& resumed_note() noexcept {
  static const std::shared_ptr<const void> none;
  return current_pass.resumed ? current_pass.resumed->note : none;
}

void keep_headers_for_resume(const httplib::Headers& headers) {
  if (!current_pass.parked)
    return;
  for (const auto& [name, value] : headers)
    if (name.compare(0, 10, "RateLimit-") == 0)
      current_pass.parked->kept.emplace(name, value);
}

void restore_kept_headers(httplib::Response& res) {
  if (!current_pass.resumed)
    return;
  for (const auto& [name, value] : current_pass.resumed->kept)
    res.set_header(name, value);
}

void share_answer_when_woken() {
  if (current_pass.parked)
    current_pass.parked->shareable = true;
}

bool answer_has_followers() noexcept {
  return !current_pass.followers.empty() && !current_pass.parked;
}

void share_answer(const follower_account& account) {
  auto& p = current_pass;
  if (p.followers.empty() || p.parked || p.shared)
    return;
  for (auto* f : p.followers)
    account(f->peer_ip, f->resumed->start);
  p.shared = true;
}

bool request_parked() noexcept {
  return current_pass.parked != nullptr;
}

bool continue_in_loop(std::shared_ptr<response_continuation> cont) {
  auto& p = current_pass;
  if (!p.conn || !p.parkable || p.parked || p.continued || !p.followers.empty()
      || !p.loop->parking() || !current_stream->flush())
    return false;
  current_stream->discard_output();
  p.continued = std::move(cont);
  return true;
}

bool response_continued() noexcept {
  return current_pass.continued != nullptr;
}

bool account_when_continued(response_account account) {
  auto& p = current_pass;
  return p.continued && p.continued->account_at_end(std::move(account));
}

connection_server::connection_server(connection_limits limits, std::size_t max_body)
  : limits_(limits), max_body_(max_body) {
  loop_ = std::make_unique<event_loop>(
    limits, max_body,
    [this](loop_conn& c) {
      if (c.cont)
        run_continuation(c);
      else
        run_requests(c);
    },
    [this](loop_conn& c) {
      if (c.counted)
        release_peer(c.peer);
    });
}

connection_server::~connection_server() = default;

void connection_server::note_accept_error() {
  accept_errors_.fetch_add(1, std::memory_order_relaxed);
}

void connection_server::close_idle() {
  loop_->stop_accepting();
}

void connection_server::close_all() {
  loop_->close_all();
}

connection_counts connection_server::counts() const {
  const auto& f = loop_->figures();
  connection_counts out;
  out.open = f.open.load();
  out.reading = f.reading.load();
  out.idle = f.idle.load();
  out.in_worker = f.in_worker.load();
  out.parked = f.parked.load();
  out.following = f.following.load();
  out.write_cut = f.write_cut.load();
  out.queued = f.queued.load();
  out.workers_busy = f.busy.load();
  out.read_cut = f.read_cut.load() + read_cut_.load();
  out.idle_closed = f.idle_closed.load();
  out.accept_errors = accept_errors_.load();
  out.per_ip_refused = peers_.refused.load();
  out.shared_answers = f.shared_answers.load();
  return out;
}


void connection_server::run_requests(loop_conn& c) {
  socket_stream strm{c.fd, limits_.write_timeout};
  strm.set_remote(c.peer_ip, c.peer_port);
  current_stream = &strm;
  current_read_timeout = limits_.read_timeout;
  auto keep_alive_max = std::max<std::size_t>(1, limits_.keep_alive_max);
  for (;;) {
    // Only a request the loop framed whole can park: it is all in `in`, to run again.
    bool whole = frame_request(c.in, c.scan, max_body_) == frame_kind::complete;
    std::size_t request_bytes = whole ? request_end(c.scan) : 0;
    // A length-framed 100-continue head whose body has not come: admitted, it waits for
    // the body in the loop (wait_for_body_in_loop).
    bool body_may_wait = !whole && c.scan.at_head_end == frame_kind::complete
                         && c.scan.expects_continue && !c.scan.continue_sent;
    strm.preload(std::move(c.in));
    c.in.clear();
    c.scan = head_scan{};
    strm.set_read_deadline(c.started + limits_.read_timeout);
    begin_request(c.peer_ip);
    current_pass = park_pass{&c,      loop_.get(), whole, body_may_wait, std::move(c.resumed),
                             nullptr, {},          false, nullptr};
    if (current_pass.resumed) {
      current_request().start = current_pass.resumed->start;
      // Its head was answered on the first pass (100, or nothing when the body was here).
      strm.swallow_continue();
    }
    current_pass.followers.swap(c.followers);
    std::string rendered;
    if (!current_pass.followers.empty())
      strm.capture_output(&rendered);
    strm.start_request();
    close_requested = false;
    bool closed = false;
    ++c.requests;
    bool ret = process_request(strm, c.requests >= keep_alive_max, closed, prepare_request);
    strm.capture_output(nullptr);
    if (!current_pass.followers.empty()) {
      strm.flush(); // its own answer first: the followers' take a while
      answer_followers(current_pass.followers, current_pass.shared ? &rendered : nullptr);
    }
    if (current_pass.parked && current_pass.parked->for_body) {
      // Admitted and told to send its body: the loop reads it, then the request runs
      // again as admitted (rate limits and shutdown do not refuse it then).
      c.resumed = std::move(current_pass.parked);
      c.in = strm.take_all();
      c.scan = head_scan{};
      c.scan.continue_sent = true;
      --c.requests;
      break;
    }
    if (current_pass.parked) {
      current_pass.parked->request_bytes = request_bytes;
      // Back to the loop with the request and whatever was pipelined after it.
      c.park = std::move(current_pass.parked);
      c.in = strm.take_all();
      --c.requests;
      break;
    }
    if (current_pass.continued) {
      // Its body goes on from the loop. A finite one keeps the connection as the library
      // would have (its head said so): bytes pipelined behind it wait in `in` until it
      // ends; a follower ends only by closing.
      c.cont = std::move(current_pass.continued);
      c.cont_keep = c.cont->finite() && !closed && !close_requested
                    && c.requests < keep_alive_max && accepting_.load();
      c.in = strm.take_buffered();
      break;
    }
    strm.flush();
    if (close_requested)
      closed = true;
    if (strm.timed_out())
      read_cut_.fetch_add(1, std::memory_order_relaxed);
    if (!ret || closed || strm.broken() || !accepting_.load()) {
      if (strm.broken())
        ::shutdown(c.fd, SHUT_RDWR);
      else
        drain_and_shutdown(c.fd);
      c.close = true;
      break;
    }
    c.in = strm.take_buffered();
    if (c.in.empty() && !strm.peer_closed())
      linger(c, loop_->figures(), limits_.threads);
    if (c.in.empty()) {
      c.close = c.close || strm.peer_closed();
      break;
    }
    // Pipelined (or just arrived): served here if whole, else the loop waits for it.
    c.started = clock::now();
    if (frame_request(c.in, c.scan, max_body_) == frame_kind::incomplete)
      break;
  }
  current_pass = park_pass{};
  current_stream = nullptr;
  if (c.cont)
    run_continuation(c); // caught up: the next part is made (or waited for) here
}

} // namespace ebuse
