// Address parsing and the trusted-proxy walk over forwarding headers.
#include "http/client_ip.hpp"

#include <cstring>

#include <arpa/inet.h>

#include "core/ascii.hpp"

namespace ebuse {

namespace {

constexpr std::array<uint8_t, 12> v4_prefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool parse_int(std::string_view s, int& out) {
  if (s.empty() || s.size() > 3)
    return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

// One hop of a forwarding header: an address, optionally with a port
// (`1.2.3.4:80`, `[::1]:80`), optionally quoted.
bool parse_hop(std::string_view s, ip_address& out) {
  s = trim_ows(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"')
    s = s.substr(1, s.size() - 2);
  if (!s.empty() && s.front() == '[') {
    auto end = s.find(']');
    if (end == std::string_view::npos)
      return false;
    return parse_ip(s.substr(0, end + 1), out);
  }
  auto colon = s.find(':');
  if (colon != std::string_view::npos && s.find(':', colon + 1) == std::string_view::npos)
    s = s.substr(0, colon); // IPv4 with a port
  return parse_ip(s, out);
}

template <class F>
void split(std::string_view s, char sep, F f) {
  size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string_view::npos)
      end = s.size();
    f(s.substr(start, end - start));
    start = end + 1;
  }
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// The `for=` values of Forwarded headers, in order (RFC 7239 section 4).
std::vector<std::string_view> forwarded_for(const std::vector<std::string_view>& values) {
  std::vector<std::string_view> hops;
  for (auto v : values)
    split(v, ',', [&](std::string_view element) {
      std::string_view found;
      split(element, ';', [&](std::string_view pair) {
        pair = trim_ows(pair);
        if (iequals_prefix(pair, "for="))
          found = pair.substr(4);
      });
      hops.push_back(found); // an element without for= is a hop we cannot use
    });
  return hops;
}

} // namespace

bool ip_address::is_v4() const noexcept {
  return std::memcmp(bytes.data(), v4_prefix.data(), v4_prefix.size()) == 0;
}

bool parse_ip(std::string_view text, ip_address& out) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 45)
    return false;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  ip_address a;
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    std::memcpy(a.bytes.data(), v4_prefix.data(), v4_prefix.size());
    std::memcpy(a.bytes.data() + 12, &v4, 4);
    out = a;
    return true;
  }
  if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) {
    out = a;
    return true;
  }
  return false;
}

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN];
  if (a.is_v4())
    inet_ntop(AF_INET, a.bytes.data() + 12, buf, sizeof(buf));
  else
    inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof(buf));
  return buf;
}

bool trusted_proxies::parse(std::string_view text, trusted_proxies& out, std::string& err) {
  trusted_proxies result;
  bool ok = true;
  if (!trim_ows(text).empty())
    split(text, ',', [&](std::string_view entry) {
      if (!ok)
        return;
      entry = trim_ows(entry);
      auto slash = entry.find('/');
      ip_address base;
      int prefix = 128;
      if (!parse_ip(entry.substr(0, slash), base)) {
        ok = false;
      } else if (slash != std::string_view::npos) {
        int bits = 0;
        int max = base.is_v4() ? 32 : 128;
        ok = parse_int(entry.substr(slash + 1), bits) && bits <= max;
        prefix = base.is_v4() ? 96 + bits : bits;
      }
      if (!ok) {
        err = "bad entry \"" + std::string{entry} + "\"";
        return;
      }
      for (int i = prefix; i < 128; ++i)
        base.bytes[i / 8] &= static_cast<uint8_t>(~(0x80 >> (i % 8)));
      result.nets_.push_back({base, prefix});
    });
  if (ok)
    out = std::move(result);
  return ok;
}

bool trusted_proxies::contains(const ip_address& a) const noexcept {
  for (const auto& n : nets_) {
    int full = n.prefix / 8;
    if (std::memcmp(a.bytes.data(), n.base.bytes.data(), full) != 0)
      continue;
    int rest = n.prefix % 8;
    if (rest == 0)
      return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    if ((a.bytes[full] & mask) == n.base.bytes[full])
      return true;
  }
  return false;
}

ip_address resolve_client(const ip_address& peer,
                          const std::vector<std::string_view>& forwarded,
                          const std::vector<std::string_view>& x_forwarded_for,
                          const trusted_proxies& proxies) {
  if (proxies.empty() || !proxies.contains(peer))
    return peer;
  std::vector<std::string_view> hops;
  if (!forwarded.empty())
    hops = forwarded_for(forwarded);
  else
    for (auto v : x_forwarded_for)
      split(v, ',', [&](std::string_view hop) { hops.push_back(hop); });
  ip_address client = peer;
  for (auto i = hops.rbegin(); i != hops.rend(); ++i) {
    ip_address hop;
    if (!parse_hop(*i, hop))
      break;
    client = hop;
    if (!proxies.contains(hop))
      break;
  }
  return client;
}

} // namespace ebuse
