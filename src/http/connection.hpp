// Connections of the HTTP server: an event loop holds them while they wait, and
// cpp-httplib's request processing runs each buffered request on a worker.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <httplib.h>

#include "http/client_ip.hpp"
#include "http/event_loop.hpp"
#include "http/options.hpp"
#include "http/socket_stream.hpp"
#include "obs/http_metrics.hpp"

namespace ebuse {

/// Marks the response to close its connection (`Connection: close`) and makes the
/// connection loop close it after sending. The only way that header is set: the
/// library would keep the connection open and read the unread rest of a refused body
/// as the next request.
void close_after_response(httplib::Response& res);

/// Sends what the current thread's response has buffered (its status line, headers and
/// short body go out together at the end of the response or when this is called).
void flush_response();

/// For a body its handler reads as a stream (an import of any size): from now on the
/// rest of the request must make progress within READ_TIMEOUT instead of arriving
/// whole within it. Called for each piece read.
void renew_read_deadline();

/// Whether the client of the current thread's request has closed or reset its
/// connection (checked without blocking), for work done before a response starts.
bool client_disconnected();

/// What wait_or_hangup() saw first.
enum class wait_result { ready, deadline, hangup };

/// Waits until `fd` is readable, `deadline` passes or the client of the current request
/// closes or resets its connection (a follower whose client left ends at once instead of
/// at the next commit or heartbeat).
wait_result wait_or_hangup(int fd, std::chrono::steady_clock::time_point deadline);

/// True while the current thread's request exceeded READ_TIMEOUT (for the 408 answer).
bool current_request_timed_out() noexcept;

/// Registers `wake` (callable from any thread, once or more) with what will wake a parked
/// request, and returns what forgets that registration (called once, when the park ends
/// in any way).
using park_subscribe = std::function<std::function<void()>(std::function<void()> wake)>;

/// Parks the current request instead of waiting on this thread: the handler returns at
/// once, the response it leaves is never sent (nor logged), and the connection waits in
/// the event loop, without a thread, until `wake` is called, `deadline` passes or the
/// server stops; then the same request runs again with request_resumed() true and
/// answers. False when it cannot park (the loop did not frame it, or the server is
/// stopping): the caller waits on its thread instead. `note` is handed to the next pass
/// (resumed_note()): what the first pass learnt that a second read could not (the tail
/// an `offset=now` named).
bool park_request(std::chrono::steady_clock::time_point deadline,
                  const park_subscribe& subscribe,
                  std::shared_ptr<const void> note = nullptr);

/// Whether the current request runs again after it was parked.
bool request_resumed() noexcept;

/// For the `Expect: 100-continue` answer, once the head is admitted: when its body has not
/// come and the loop can read it, sends `100 Continue` now and gives the connection back
/// to the loop when the handler returns (its response is discarded); the request runs
/// again once its body is here, admitted (request_admitted_before()), its answer carrying
/// this pass's rate-limit headers. False: the caller answers 100 and the body is read on
/// this thread.
bool wait_for_body_in_loop();

/// Whether the current request was admitted on an earlier pass (it parked, or waited for
/// its body after `100 Continue`): it is not refused or counted by the limits again.
bool request_admitted_before() noexcept;

/// The deadline the current request was parked with (when resumed).
std::chrono::steady_clock::time_point resumed_deadline() noexcept;

/// The note the current request parked with (when resumed; else null).
const std::shared_ptr<const void>& resumed_note() noexcept;

/// For the pipeline, when the current request parked: the rate-limit headers of its
/// first pass's admission (RateLimit-*), which its answer carries as a waiting worker's
/// would; the pass that answers is not admitted again.
void keep_headers_for_resume(const httplib::Headers& headers);

/// Puts the headers kept by keep_headers_for_resume() into `res` (when resumed).
void restore_kept_headers(httplib::Response& res);

/// For a handler that parked the current request: its answer is decided by the request's
/// bytes and the store alone (a page of the event log), so requests woken in the same
/// burst with byte-identical text can be answered from one rendering.
void share_answer_when_woken();

/// Whether other woken connections wait for the current request's answer.
bool answer_has_followers() noexcept;

/// Called once for each follower answered: its peer address (as accepted) and its
/// request's first byte.
using follower_account =
  std::function<void(const std::string& peer_ip, std::chrono::steady_clock::time_point start)>;

/// For the pipeline's log step, once the current response is written whole and would be
/// the same for every follower: its bytes answer them too, and `account` logs and counts
/// each. When not called, each follower runs its own resumed pass.
void share_answer(const follower_account& account);

/// Whether the current request parked during this pass (its response is discarded).
bool request_parked() noexcept;

/// What a failed accept() means for the accept loop.
enum class accept_failure {
  none,       ///< nothing pending after all (EAGAIN, EINTR): wait again
  connection, ///< that connection failed (ECONNABORTED, ...): accept the next at once
  resources,  ///< out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): back off
  fatal,      ///< the listening socket itself is unusable (EBADF, EINVAL, ...)
};

/// Classifies the errno of a failed accept().
accept_failure classify_accept_error(int err) noexcept;

/// Open connections per peer address, for MAX_CONNS_PER_IP.
struct peer_counts {
  std::mutex mtx;
  std::map<std::array<uint8_t, 16>, int> open; ///< only addresses with connections
  std::atomic<uint64_t> refused{0};            ///< connections refused at accept
};

/// A cpp-httplib server whose connections live in our event loop: no thread while a
/// connection waits for a request or its bytes; a worker runs each whole request
/// through the library's protected `process_request` and writes its response.
class connection_server : public httplib::Server {
public:
  /// `max_body`: MAX_BODY_BYTES (a larger announced body goes to a worker at once, which
  /// refuses it before reading it).
  connection_server(connection_limits limits, std::size_t max_body);
  ~connection_server() override;

  /// For shutdown: closes every idle connection now; busy ones close after their
  /// current response. (Implied by stop_accepting().)
  void close_idle();

  /// For the end of the shutdown grace period: cuts every open connection.
  void close_all();

  connection_counts counts() const;

  /// Serves connections accepted on `listen_fd` (bound and listening) until
  /// stop_accepting() and every connection has closed. Survives transient accept()
  /// failures (logged, retried with a back-off up to 100 ms). False only if the
  /// listening socket failed for good. Defined in accept_loop.cpp.
  bool serve(socket_t listen_fd);

  /// Peers not held to MAX_CONNS_PER_IP (TRUSTED_PROXIES: many clients behind one
  /// address). Before serve().
  void exempt_from_ip_limit(trusted_proxies proxies);

  /// Makes serve() stop accepting and return once in-flight requests are done; from
  /// any thread except a signal handler.
  void stop_accepting();

private:
  // Runs the buffered requests of a connection on a worker (connection.cpp).
  void run_requests(loop_conn& c);
  // Sends a continued response's next parts until it waits (continued_response.cpp).
  void run_continuation(loop_conn& c);
  // Writes `bytes` (the leader's response) to each follower, or without bytes runs each
  // on a worker; then gives them back to the loop (shared_answers.cpp).
  void answer_followers(std::vector<loop_conn*>& followers, const std::string* bytes);
  // Writes `bytes` to each follower and gives them back to the loop (shared_answers.cpp).
  void write_answers(const std::vector<loop_conn*>& followers, const std::string& bytes);
  // Accepts what the listening socket holds (accept_loop.cpp).
  std::chrono::milliseconds accept_ready(socket_t listen_fd);
  // MAX_CONNS_PER_IP at accept: false if `sock` was refused (answered and closed).
  bool admit_peer(socket_t sock, const ip_address& peer, bool& counted);
  void release_peer(const ip_address& peer);
  void note_accept_error();

  connection_limits limits_;
  std::size_t max_body_;
  std::atomic<bool> accepting_{true};
  trusted_proxies exempt_;
  peer_counts peers_;
  std::atomic<uint64_t> accept_errors_{0};
  std::atomic<uint64_t> read_cut_{0}; ///< requests cut by a worker at READ_TIMEOUT
  // Accept back-off state of the loop thread.
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point last_log_{};
  uint64_t unlogged_ = 0;
  std::unique_ptr<event_loop> loop_;
};

} // namespace ebuse
