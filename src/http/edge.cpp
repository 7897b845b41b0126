// Client address resolution, rate-limit admission with its headers, gzip acceptance.
#include "http/edge.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "http/errors.hpp"
#include "http/gzip.hpp"
#include "http/handlers.hpp"

namespace ebuse {

namespace {

thread_local edge_request current;

std::vector<std::string_view> header_values(const httplib::Request& req, const char* name) {
  std::vector<std::string_view> out;
  auto range = req.headers.equal_range(name);
  for (auto i = range.first; i != range.second; ++i)
    out.emplace_back(i->second);
  return out;
}

} // namespace

edge_request& current_edge() noexcept {
  return current;
}

void begin_edge_request(const std::string& peer) {
  current.start = std::chrono::steady_clock::now();
  current.ip = peer;
  current.body_bytes = 0;
  current.accepts_gzip = false;
  current.head = request_head{};
}

rate_key rate_key_of_ip(const ip_address& a) noexcept {
  rate_key k;
  std::memcpy(&k.hi, a.bytes.data(), 8);
  if (a.is_v4())
    std::memcpy(&k.lo, a.bytes.data() + 8, 8);
  return k;
}

http_edge::http_edge(const http_options& opts, std::shared_ptr<rate_limiter> limiter)
  : gzip_enabled_(opts.enable_gzip),
    gzip_min_bytes_(opts.gzip_min_bytes),
    limiter_(std::move(limiter)) {
  std::string err;
  trusted_proxies::parse(opts.trusted_proxies, proxies_, err);
}

void http_edge::begin(httplib::Request& req) {
  auto& e = current;
  e.body_bytes = 0;
  e.gzip_enabled = gzip_enabled_;
  e.gzip_min_bytes = gzip_min_bytes_;
  e.accepts_gzip = false;
  e.head.scan(req);
  if (!e.head.accept_encoding.empty()) {
    e.accepts_gzip = gzip_enabled_ && accepts_gzip(e.head.accept_encoding);
    e.head.accept_encoding = {};
    req.headers.erase("Accept-Encoding");
  }
  if (proxies_.empty()) {
    e.ip = req.remote_addr;
    return;
  }
  ip_address peer;
  if (!parse_ip(req.remote_addr, peer)) {
    e.ip = req.remote_addr;
    return;
  }
  std::vector<std::string_view> forwarded;
  std::vector<std::string_view> x_forwarded_for;
  if (e.head.forwarded) {
    forwarded = header_values(req, "Forwarded");
    x_forwarded_for = header_values(req, "X-Forwarded-For");
  }
  e.ip = to_string(resolve_client(peer, forwarded, x_forwarded_for, proxies_));
}

bool http_edge::admit_client(const httplib::Request& req, httplib::Response& res) {
  if (!limiter_ || !limiter_->enabled(rate_scope::ip))
    return true;
  ip_address client;
  rate_key key;
  if (parse_ip(current.ip, client))
    key = rate_key_of_ip(client);
  else
    key = rate_key_of_api_key(current.ip); // not an address (cannot happen over TCP)
  return apply(limiter_->check(rate_scope::ip, key), "client", req, res);
}

bool http_edge::admit_key(std::string_view api_key, const httplib::Request& req,
                          httplib::Response& res) {
  if (!limiter_ || !limiter_->enabled(rate_scope::key))
    return true;
  return apply(limiter_->check(rate_scope::key, rate_key_of_api_key(api_key)), "API key", req,
               res);
}

bool http_edge::apply(const rate_decision& d, const char* what, const httplib::Request& req,
                      httplib::Response& res) {
  // With both limits on, the headers describe the tighter one: the later check (per
  // key) replaces the earlier only if it leaves fewer requests.
  auto prev = res.headers.find("RateLimit-Remaining");
  bool replace = prev == res.headers.end() || !d.allowed
                 || d.remaining < std::strtoll(prev->second.c_str(), nullptr, 10);
  if (replace) {
    for (auto name : {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"})
      res.headers.erase(name);
    res.set_header("RateLimit-Limit", std::to_string(d.limit));
    res.set_header("RateLimit-Remaining", std::to_string(d.remaining));
    res.set_header("RateLimit-Reset", std::to_string(d.reset_seconds));
  }
  if (d.allowed)
    return true;
  res.set_header("Retry-After", std::to_string(d.retry_after_seconds));
  // The body of a refused request is never read; it must not be taken for the next
  // request on this connection.
  if (current.head.has_body())
    close_after_response(res);
  auto e = to_http_error(http_errc::rate_limited,
                         std::string{"rate limit exceeded for this "} + what + "; retry in "
                           + std::to_string(d.retry_after_seconds) + " s");
  send_json(res, std::move(e.body), e.status);
  return false;
}

} // namespace ebuse
