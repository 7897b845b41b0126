// Unit tests for client addresses: parsing, trusted ranges, the forwarding-header walk.
#include <catch2/catch.hpp>

#include "http/client_ip.hpp"

using namespace ebuse;

namespace {

ip_address ip(const char* text) {
  ip_address a;
  REQUIRE(parse_ip(text, a));
  return a;
}

trusted_proxies proxies(const char* text) {
  trusted_proxies p;
  std::string err;
  REQUIRE(trusted_proxies::parse(text, p, err));
  return p;
}

std::string client(const char* peer, std::vector<std::string_view> fwd,
                   std::vector<std::string_view> xff, const trusted_proxies& p) {
  return to_string(resolve_client(ip(peer), fwd, xff, p));
}

} // namespace

TEST_CASE("addresses parse to one canonical form") {
  CHECK(to_string(ip("1.2.3.4")) == "1.2.3.4");
  CHECK(ip("1.2.3.4").is_v4());
  CHECK(ip("::ffff:1.2.3.4") == ip("1.2.3.4"));
  CHECK(to_string(ip("2001:DB8:0:0::1")) == "2001:db8::1");
  CHECK(to_string(ip("[::1]")) == "::1");
  CHECK_FALSE(ip("::1").is_v4());
  ip_address a;
  for (auto bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80", "abc", "::g",
                   "[::1", "1.2.3.4 ", "fe80::1%eth0"})
    CHECK_FALSE(parse_ip(bad, a));
}

TEST_CASE("TRUSTED_PROXIES lists addresses and CIDR ranges") {
  auto p = proxies(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,2001:db8::/127, 172.16.5.9/20");
  CHECK(p.contains(ip("10.255.1.2")));
  CHECK_FALSE(p.contains(ip("11.0.0.1")));
  CHECK(p.contains(ip("192.168.1.7")));
  CHECK_FALSE(p.contains(ip("192.168.1.8")));
  CHECK(p.contains(ip("fd12::1")));
  CHECK_FALSE(p.contains(ip("fe00::1")));
  CHECK(p.contains(ip("2001:db8::1")));
  CHECK_FALSE(p.contains(ip("2001:db8::2")));
  CHECK(p.contains(ip("172.16.0.1"))); // host bits of 172.16.5.9/20 are masked
  CHECK_FALSE(p.contains(ip("172.16.16.1")));
  CHECK(p.contains(ip("::ffff:10.0.0.1")));
  CHECK(proxies("").empty());
  CHECK(proxies("0.0.0.0/0").contains(ip("8.8.8.8")));
  CHECK_FALSE(proxies("0.0.0.0/0").contains(ip("::1")));

  trusted_proxies q;
  std::string err;
  for (auto bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host.example",
                   "10.0.0.1,,10.0.0.2", "10.0.0.0/8 10.1.0.0/16", "1.2.3.4/-1"}) {
    INFO(bad);
    CHECK_FALSE(trusted_proxies::parse(bad, q, err));
    CHECK_FALSE(err.empty());
  }
}

TEST_CASE("forwarding headers count only from trusted proxies") {
  auto none = proxies("");
  auto lb = proxies("10.0.0.0/8, ::1");
  // Not trusted: the header is whatever the client wants it to be, so it is ignored.
  CHECK(client("203.0.113.5", {}, {"1.1.1.1"}, none) == "203.0.113.5");
  CHECK(client("203.0.113.5", {}, {"1.1.1.1"}, lb) == "203.0.113.5");
  CHECK(client("203.0.113.5", {"for=1.1.1.1"}, {}, lb) == "203.0.113.5");
  // From a trusted proxy: the rightmost address that is not a proxy.
  CHECK(client("10.0.0.1", {}, {"1.1.1.1"}, lb) == "1.1.1.1");
  CHECK(client("10.0.0.1", {}, {"6.6.6.6, 1.1.1.1"}, lb) == "1.1.1.1");
  CHECK(client("10.0.0.1", {}, {"6.6.6.6, 1.1.1.1, 10.2.2.2"}, lb) == "1.1.1.1");
  CHECK(client("10.0.0.1", {}, {"6.6.6.6", "1.1.1.1 , 10.2.2.2"}, lb) == "1.1.1.1");
  CHECK(client("::1", {}, {"2001:db8::7"}, lb) == "2001:db8::7");
  CHECK(client("10.0.0.1", {}, {"1.1.1.1:4711"}, lb) == "1.1.1.1");
  CHECK(client("10.0.0.1", {}, {"[2001:db8::7]:4711"}, lb) == "2001:db8::7");
  // Every hop a proxy: the leftmost.
  CHECK(client("10.0.0.1", {}, {"10.9.9.9, 10.2.2.2"}, lb) == "10.9.9.9");
  // A hop that does not parse ends the walk at the last trusted one.
  CHECK(client("10.0.0.1", {}, {"1.1.1.1, garbage, 10.2.2.2"}, lb) == "10.2.2.2");
  CHECK(client("10.0.0.1", {}, {""}, lb) == "10.0.0.1");
  CHECK(client("10.0.0.1", {}, {}, lb) == "10.0.0.1");
  // RFC 7239 Forwarded wins over X-Forwarded-For.
  CHECK(client("10.0.0.1", {"for=1.1.1.1;proto=https, for=10.3.3.3"}, {"9.9.9.9"}, lb)
        == "1.1.1.1");
  CHECK(client("10.0.0.1", {"For=\"[2001:db8:cafe::17]:4711\""}, {}, lb) == "2001:db8:cafe::17");
  CHECK(client("10.0.0.1", {"for=unknown"}, {}, lb) == "10.0.0.1");
  CHECK(client("10.0.0.1", {"proto=http;by=10.0.0.1"}, {}, lb) == "10.0.0.1");
}
