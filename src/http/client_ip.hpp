// Client addresses: parsing, trusted-proxy ranges, and the X-Forwarded-For/Forwarded walk.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ebuse {

/// An IPv4 or IPv6 address as 16 bytes; IPv4 is held as ::ffff:a.b.c.d.
struct ip_address {
  std::array<uint8_t, 16> bytes{};

  /// True for an IPv4 (IPv4-mapped) address.
  bool is_v4() const noexcept;

  friend bool operator==(const ip_address& a, const ip_address& b) {
    return a.bytes == b.bytes;
  }
};

/// Parses `1.2.3.4`, `::1`, `::ffff:1.2.3.4` or `[2001:db8::1]`; nothing else.
bool parse_ip(std::string_view text, ip_address& out);

/// Canonical text: dotted quad for IPv4 (also when mapped), RFC 5952 for IPv6.
std::string to_string(const ip_address& a);

/// A list of CIDR ranges (TRUSTED_PROXIES).
class trusted_proxies {
public:
  /// Parses a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8`,
  /// `192.168.1.7`, `fd00::/8`); blanks around entries are ignored, an empty text is
  /// an empty list. On failure `err` names the bad entry.
  static bool parse(std::string_view text, trusted_proxies& out, std::string& err);

  /// True when `a` lies in one of the ranges.
  bool contains(const ip_address& a) const noexcept;

  bool empty() const noexcept {
    return nets_.empty();
  }

private:
  struct net {
    ip_address base; ///< masked to `prefix` bits
    int prefix;      ///< in the 128-bit space (IPv4 /n is 96 + n)
  };
  std::vector<net> nets_;
};

/// The address of the client of a request arriving from `peer` (the TCP peer). Only
/// when `peer` is a trusted proxy are the forwarding headers read: the `Forwarded`
/// values (RFC 7239 `for=`) if any, else the `X-Forwarded-For` values, walked from the
/// right past trusted proxies; the first untrusted address is the client. An entry that
/// does not parse (`unknown`, obfuscated) ends the walk at the last trusted hop.
ip_address resolve_client(const ip_address& peer,
                          const std::vector<std::string_view>& forwarded,
                          const std::vector<std::string_view>& x_forwarded_for,
                          const trusted_proxies& proxies);

} // namespace ebuse
