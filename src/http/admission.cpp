// Rate-limit admission with its RateLimit-* and Retry-After headers.
#include "http/admission.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "http/connection.hpp"
#include "http/handlers.hpp"

namespace ebuse {

rate_key rate_key_of_ip(const ip_address& a) noexcept {
  rate_key k;
  std::memcpy(&k.hi, a.bytes.data(), 8);
  if (a.is_v4())
    std::memcpy(&k.lo, a.bytes.data() + 8, 8);
  return k;
}

admission::admission(std::shared_ptr<rate_limiter> limiter) : limiter_(std::move(limiter)) {
}

bool admission::admit_client(std::string_view client, bool has_body, httplib::Response& res) {
  if (!limiter_ || !limiter_->enabled(rate_scope::ip))
    return true;
  ip_address addr;
  rate_key key;
  if (parse_ip(client, addr))
    key = rate_key_of_ip(addr);
  else
    key = rate_key_of_api_key(client); // not an address (cannot happen over TCP)
  return apply(limiter_->check(rate_scope::ip, key), "client", has_body, res);
}

bool admission::admit_key(std::string_view api_key, bool has_body, httplib::Response& res) {
  if (!limiter_ || !limiter_->enabled(rate_scope::key))
    return true;
  return apply(limiter_->check(rate_scope::key, rate_key_of_api_key(api_key)), "API key",
               has_body, res);
}

bool admission::apply(const rate_decision& d, const char* what, bool has_body,
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
  if (has_body)
    close_after_response(res);
  send_error(res, http_errc::rate_limited,
             std::string{"rate limit exceeded for this "} + what + "; retry in "
               + std::to_string(d.retry_after_seconds) + " s");
  return false;
}

} // namespace ebuse
