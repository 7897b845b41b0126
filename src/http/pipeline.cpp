// The stages of a request around its handler.
#include "http/pipeline.hpp"

#include <charconv>
#include <chrono>

#include "http/auth.hpp"
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/gzip.hpp"
#include "http/handlers.hpp"
#include "http/socket_stream.hpp"
#include "obs/logger.hpp"
#include "streams/response.hpp"

namespace ebuse {

namespace {

std::vector<std::string_view> header_values(const httplib::Request& req, const char* name) {
  std::vector<std::string_view> out;
  auto range = req.headers.equal_range(name);
  for (auto i = range.first; i != range.second; ++i)
    out.emplace_back(i->second);
  return out;
}

// Bytes of the request body: as read, or as announced when the body was never read.
uint64_t body_bytes_in(const httplib::Request& req, const request_headers& headers) {
  uint64_t n = req.body.size();
  if (n == 0 && headers.content_length_count > 0)
    std::from_chars(headers.content_length.data(),
                    headers.content_length.data() + headers.content_length.size(), n);
  return n;
}

} // namespace

std::string client_address(const httplib::Request& req, const std::string& peer,
                           const request_headers& headers, const trusted_proxies& proxies) {
  ip_address peer_addr;
  if (proxies.empty() || !parse_ip(peer, peer_addr))
    return peer;
  std::vector<std::string_view> forwarded;
  std::vector<std::string_view> x_forwarded_for;
  if (headers.forwarded) {
    forwarded = header_values(req, "Forwarded");
    x_forwarded_for = header_values(req, "X-Forwarded-For");
  }
  return to_string(resolve_client(peer_addr, forwarded, x_forwarded_for, proxies));
}

void normalize_framing(httplib::Request& req, request_headers& headers,
                       bool own_content_type) {
  // curl -d says form-urlencoded; the library would cap such bodies at 8 KiB.
  if (!own_content_type && headers.content_type
      && headers.content_type->rfind("application/x-www-form-urlencoded", 0) == 0)
    *headers.content_type = "application/json";
  // The library parses a multipart/form-data body into parts (and a body reader then
  // fails); every body here is read as the bytes sent: JSON for the event API (which
  // answers such a body invalid_json, as the original), a stream's own type kept aside.
  if (headers.content_type && headers.content_type->rfind("multipart/form-data", 0) == 0) {
    if (own_content_type)
      headers.sent_multipart_type = *headers.content_type;
    *headers.content_type = own_content_type ? "application/octet-stream" : "application/json";
  }
  // The library reads the body of these methods until the connection closes when the
  // head gives no length; here such a body is empty.
  if ((req.method == "POST" || req.method == "PUT" || req.method == "PATCH"
       || req.method == "PRI")
      && headers.content_length_count == 0 && headers.transfer_encoding_count == 0) {
    req.headers.emplace("Content-Length", "0");
    headers.content_length_count = 1;
    headers.content_length = "0";
  }
}

request_pipeline::request_pipeline(const http_options& opts,
                                   std::shared_ptr<tenant_registry> registry,
                                   std::shared_ptr<rate_limiter> limiter, http_metrics& metrics)
  : opts_(opts), registry_(std::move(registry)), admission_(std::move(limiter)),
    metrics_(metrics) {
  std::string err;
  trusted_proxies::parse(opts.trusted_proxies, proxies_, err);
}

bool request_pipeline::before_handler(httplib::Request& req, httplib::Response& res,
                                      request_state& st) {
  identify(req, st);
  if (request_admitted_before()) {
    // A request running again (it parked, or its body came after `100 Continue`) was
    // admitted and counted by the limits on its first pass; during shutdown it is
    // answered, not refused. Its answer carries the rate-limit headers of that admission.
    restore_kept_headers(res);
    prepare(req, res, st);
    return authenticate(req, res, st);
  }
  if (refuse(res, st))
    return false;
  prepare(req, res, st);
  return admit_client(res, st) && authenticate(req, res, st) && admit_key(res, st)
         && admit_body(res, st);
}

void request_pipeline::identify(httplib::Request& req, request_state& st) const {
  st.t.reset();
  st.admin = false;
  st.body_bytes = 0;
  st.gzip_enabled = opts_.enable_gzip;
  st.gzip_min_bytes = opts_.gzip_min_bytes;
  st.accepts_gzip = false;
  st.headers.scan(req);
  if (!st.headers.accept_encoding.empty()) {
    st.accepts_gzip = opts_.enable_gzip && accepts_gzip(st.headers.accept_encoding);
    st.headers.accept_encoding = {};
    req.headers.erase("Accept-Encoding");
  }
  st.client = client_address(req, req.remote_addr, st.headers, proxies_);
  // Once, before anything routes: the library's router reads the same path afterwards.
  // Durable Streams paths are stream names, not file paths: an unclean one is refused
  // there (invalid_stream_path), never silently renamed.
  if (!is_clean_path(req.path) && req.path.compare(0, 11, "/v1/stream/") != 0)
    req.path = clean_path(req.path);
  st.match = match(req.method, req.path, registry_->multi_tenant());
  st.routed = true;
}

bool request_pipeline::refuse(httplib::Response& res, const request_state& st) const {
  if (stopping_.load(std::memory_order_relaxed)) {
    close_after_response(res);
    send_error(res, http_errc::shutting_down, {});
    return true;
  }
  if (const char* why = ambiguous_framing(st.headers)) {
    close_after_response(res);
    std::string body = "{\"error\":\"ambiguous request framing: ";
    send_json(res, body + why + "\",\"code\":\"http_400\"}\n", 400);
    return true;
  }
  return false;
}

void request_pipeline::prepare(httplib::Request& req, httplib::Response& res,
                               request_state& st) const {
  bool stream_api = st.match.auth() == auth_kind::stream;
  if (stream_api)
    for (const auto& [name, value] : streams::common_headers())
      res.set_header(name, value);
  normalize_framing(req, st.headers, stream_api);
}

bool request_pipeline::admit_client(httplib::Response& res, const request_state& st) {
  return !st.match.rate_limited() || admission_.admit_client(st.client, st.headers.has_body(), res);
}

bool request_pipeline::authenticate(const httplib::Request& req, httplib::Response& res,
                                    request_state& st) {
  auto auth = st.match.auth();
  if (auth == auth_kind::none)
    return true;
  if (auth == auth_kind::admin)
    return authenticate_admin(res, st);
  bool public_scrape = auth == auth_kind::metrics && opts_.metrics_public
                       && serves_prometheus(req, *st.match.entry);
  if (public_scrape) {
    st.admin = true;
    return true;
  }
  // CORS preflights carry no credentials.
  if (auth == auth_kind::stream && req.method == "OPTIONS")
    return true;
  st.api_key = extract_key(st.headers.x_api_key, st.headers.authorization);
  const auto& anonymous = opts_.streams.anonymous_tenant;
  auto found = st.api_key.empty() && auth == auth_kind::stream && !anonymous.empty()
                 ? registry_->find_by_name(anonymous)
                 : registry_->find(st.api_key);
  if (!found) {
    send_error(req, res, found.error());
    return false;
  }
  if (*found) {
    st.t = std::move(*found);
    return true;
  }
  // An admin key opens no tenant, only every tenant's metrics and the list.
  bool admin_route = auth == auth_kind::admin_or_tenant || auth == auth_kind::metrics;
  if (admin_route && registry_->is_admin(st.api_key)) {
    st.admin = true;
    return true;
  }
  send_error(res, http_errc::unauthorized, "missing or invalid API key");
  return false;
}

bool request_pipeline::authenticate_admin(httplib::Response& res, request_state& st) {
  st.api_key = extract_key(st.headers.x_api_key, st.headers.authorization);
  if (registry_->is_admin(st.api_key)) {
    st.admin = true;
    return true;
  }
  if (registry_->has_tenant_key(st.api_key))
    send_error(res, http_errc::forbidden, "this route needs an admin key");
  else
    send_error(res, http_errc::unauthorized, "missing or invalid API key");
  return false;
}

bool request_pipeline::admit_key(httplib::Response& res, const request_state& st) {
  if (!st.t || !st.match.rate_limited())
    return true;
  return admission_.admit_key(st.api_key, st.headers.has_body(), res);
}

bool request_pipeline::admit_body(httplib::Response& res, const request_state& st) const {
  if (st.match.entry && st.match.status == 200 && st.match.entry->streams_body())
    return true;
  if (st.headers.content_length_count != 1)
    return true;
  uint64_t n = 0;
  const auto& text = st.headers.content_length;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || n <= opts_.max_body_bytes)
    return true;
  // Refused before any of it is read: the rest cannot be framed, the connection closes.
  close_after_response(res);
  send_error(res, http_errc::payload_too_large,
             "request body larger than " + std::to_string(opts_.max_body_bytes) + " bytes");
  return false;
}

route_match request_pipeline::match_of(const httplib::Request& req,
                                       const request_state& st) const {
  // A request the parser rejected never reached identify().
  return st.routed ? st.match : match(req.method, req.path, registry_->multi_tenant());
}

void request_pipeline::answer_unserved(const httplib::Request& req, httplib::Response& res,
                                       const request_state& st) const {
  if (res.status == 404)
    return send_unmatched(req, res, match_of(req, st));
  if (res.status == 413)
    return send_error(res, http_errc::payload_too_large,
                      "request body larger than " + std::to_string(opts_.max_body_bytes)
                        + " bytes");
  // Rejections by the HTTP parser itself (malformed request line or headers), or a
  // request that did not arrive within READ_TIMEOUT. The rest of such a request cannot
  // be framed: the connection is closed.
  if (current_request_timed_out())
    res.status = 408;
  else if (res.status == 400 && request_headers_too_large())
    res.status = 431;
  close_after_response(res);
  int status = res.status;
  send_json(res,
            "{\"error\":\"the request was rejected by the HTTP parser\","
            "\"code\":\"http_" + std::to_string(status) + "\"}\n",
            status);
}

namespace {

// Records one request's figures and writes its log line (`line` with its time and size
// still to fill in).
void account_request(http_metrics& metrics, std::size_t label, uint64_t bytes_in,
                     log::request_line line, std::chrono::steady_clock::time_point start,
                     std::string_view client, uint64_t bytes_out) {
  double seconds =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.record(label, line.status, seconds, bytes_in, bytes_out);
  line.duration_ms = seconds * 1e3;
  line.bytes = bytes_out;
  line.ip = client;
  log::request(line);
}

} // namespace

// A finite response that goes on in the event loop is accounted when it ends, with the
// bytes it sent by then; what the line says is copied, the request being gone by then.
bool request_pipeline::defer_account(std::size_t label, uint64_t bytes_in,
                                     const log::request_line& line, const request_state& st,
                                     uint64_t bytes_before) {
  if (!response_continued())
    return false;
  struct owned {
    std::string method, path, tenant, user_agent, client;
  };
  auto o = std::make_shared<owned>(owned{std::string{line.method}, std::string{line.path},
                                         std::string{line.tenant}, std::string{line.user_agent},
                                         st.client});
  auto& metrics = metrics_;
  return account_when_continued([o, &metrics, label, bytes_in, status = line.status,
                                 start = st.start, bytes_before](uint64_t bytes) {
    log::request_line l;
    l.method = o->method;
    l.path = o->path;
    l.status = status;
    l.tenant = o->tenant;
    l.user_agent = o->user_agent;
    account_request(metrics, label, bytes_in, l, start, o->client, bytes_before + bytes);
  });
}

void request_pipeline::log(const httplib::Request& req, const httplib::Response& res,
                           request_state& st) {
  // A parked request is logged and counted once, when it is answered.
  if (request_parked()) {
    keep_headers_for_resume(res.headers);
    st.t.reset();
    return;
  }
  // After the response was written. A short one is still in the connection's buffer and
  // goes out when this returns, so a client that has it finds the request counted in
  // /metrics. Timed from the request's first byte: reading a slow request counts too.
  // Streamed bodies are counted as they are sent; both as on the wire (compressed).
  uint64_t bytes_out = res.body.size() + st.body_bytes;
  log::request_line line;
  line.method = req.method;
  line.path = req.path;
  line.status = res.status;
  line.tenant = st.t ? std::string_view{st.t->name()} : std::string_view{};
  line.user_agent = st.headers.user_agent;
  auto label = match_of(req, st).label_index();
  auto bytes_in = body_bytes_in(req, st.headers);
  auto account = [&](std::chrono::steady_clock::time_point start, std::string_view client) {
    account_request(metrics_, label, bytes_in, line, start, client, bytes_out);
  };
  if (defer_account(label, bytes_in, line, st, bytes_out)) {
    st.t.reset();
    return;
  }
  account(st.start, st.client);
  // Identical requests woken with this one: a whole 2xx answer that keeps the connection
  // open is theirs too (each logged and counted with its own client and wait).
  if (answer_has_followers() && res.status / 100 == 2 && !res.content_provider_
      && res.get_header_value("Connection") != "close")
    share_answer([&](const std::string& peer, std::chrono::steady_clock::time_point start) {
      account(start, client_address(req, peer, st.headers, proxies_));
    });
  // The slot's reference must be the only one once the request is done: the registry
  // stops idle tenants nobody holds.
  st.t.reset();
}

} // namespace ebuse
