// The request pipeline as named stages: identify (client address, headers, route),
// refuse (shutdown, framing), admit the client, authenticate, admit the key, admit the
// body, then the handler, and last the log. Each stage works on an explicit request_state.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include "actors/rate_limiter.hpp"
#include "actors/registry.hpp"
#include "http/admission.hpp"
#include "http/client_ip.hpp"
#include "http/options.hpp"
#include "http/request_state.hpp"
#include "obs/http_metrics.hpp"
#include "obs/logger.hpp"

namespace ebuse {

/// The address of the client of `req` from `peer` (its TCP peer): the peer itself, or
/// with TRUSTED_PROXIES the address the forwarding headers name (see resolve_client).
std::string client_address(const httplib::Request& req, const std::string& peer,
                           const request_headers& headers, const trusted_proxies& proxies);

/// Makes the request's framing what this API means, before the library reads the body:
/// a form content type is taken as JSON (the library would cap and parse forms) unless
/// `own_content_type` (a stream's body is bytes of the type its client names; its
/// handlers read it themselves), and a POST or PUT without Content-Length or chunked
/// encoding has an empty body (RFC 9112 6.3; the library would wait for the connection
/// to close).
void normalize_framing(httplib::Request& req, request_headers& headers,
                       bool own_content_type = false);

/// The stages every request passes, in order.
class request_pipeline {
public:
  /// `limiter` may be null. opts.trusted_proxies must be valid.
  request_pipeline(const http_options& opts, std::shared_ptr<tenant_registry> registry,
                   std::shared_ptr<rate_limiter> limiter, http_metrics& metrics);

  /// Every stage before the handler; false when one answered (`res` holds it).
  bool before_handler(httplib::Request& req, httplib::Response& res, request_state& st);

  /// Stage 1: the client's address, the headers read, gzip acceptance (then removes
  /// `Accept-Encoding`: the library must never compress on its own), and the route.
  void identify(httplib::Request& req, request_state& st) const;

  /// Stage 2: refuses what no route may see: any request while shutting down (503) and
  /// ambiguous framing (400); both close the connection. True: `res` holds the refusal.
  bool refuse(httplib::Response& res, const request_state& st) const;

  /// Between stages 2 and 3: the framing normalized, and on a stream route the
  /// protocol's common headers set (every answer carries them, refusals included).
  void prepare(httplib::Request& req, httplib::Response& res, request_state& st) const;

  /// Stage 3: the per-client rate limit, on limited routes. False: `res` holds the 429.
  bool admit_client(httplib::Response& res, const request_state& st);

  /// Stage 4: who is calling, as the route requires: sets `st.t` (a tenant key, or no key
  /// on a stream route with DS_ANONYMOUS_TENANT), `st.admin` (an admin key, or a public
  /// Prometheus scrape), or nothing (no key needed). False: `res` holds the 401, or the
  /// 503 of a tenant that cannot start.
  bool authenticate(const httplib::Request& req, httplib::Response& res, request_state& st);

  /// Stage 5: the per-key rate limit, for a tenant's key. False: `res` holds the 429.
  bool admit_key(httplib::Response& res, const request_state& st);

  /// Stage 6: a body announced (Content-Length) above MAX_BODY_BYTES is refused before
  /// any of it is read, except on a route that reads its body as it arrives (an import).
  /// False: `res` holds the 413.
  bool admit_body(httplib::Response& res, const request_state& st) const;

  /// The answer to what the handlers do not serve: 404 and 405 from the route table, 413,
  /// and the library's own rejections (malformed, too slow: 408, headers too large: 431).
  void answer_unserved(const httplib::Request& req, httplib::Response& res,
                       const request_state& st) const;

  /// Last stage, after the response: its figures and the request log line; releases the
  /// request's tenant.
  void log(const httplib::Request& req, const httplib::Response& res, request_state& st);

  /// From now on every request is refused with 503 shutting_down.
  void stop() noexcept {
    stopping_.store(true, std::memory_order_relaxed);
  }

private:
  // Stage 4 on an admin route: an admin key; a tenant's key gets 403, others 401.
  bool authenticate_admin(httplib::Response& res, request_state& st);

  route_match match_of(const httplib::Request& req, const request_state& st) const;

  // For log(): hands the accounting to a finite response that goes on in the event loop;
  // false when the response has been written (account now).
  bool defer_account(std::size_t label, uint64_t bytes_in, const log::request_line& line,
                     const request_state& st, uint64_t bytes_before);

  http_options opts_;
  std::shared_ptr<tenant_registry> registry_;
  admission admission_;
  trusted_proxies proxies_;
  http_metrics& metrics_;
  std::atomic<bool> stopping_{false};
};

} // namespace ebuse
