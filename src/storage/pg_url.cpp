// Checks DATABASE_URL with libpq's own parser and hides passwords in what we print.
#include "storage/pg_url.hpp"

#include <libpq-fe.h>


#include "core/errc.hpp"

namespace ebuse::pg {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Replaces the value of every `password=` query parameter.
void redact_query(std::string& out, std::string_view query) {
  std::size_t i = 0;
  while (i <= query.size()) {
    std::size_t amp = query.find('&', i);
    if (amp == std::string_view::npos)
      amp = query.size();
    auto pair = query.substr(i, amp - i);
    if (starts_with(pair, "password="))
      out += "password=***";
    else
      out += pair;
    if (amp < query.size())
      out += '&';
    i = amp + 1;
  }
}

// Replaces the (first) password of `url` wherever it appears in `text`: libpq quotes the
// part of a URL it rejects, which may be the password.
std::string hide_password(std::string text, std::string_view url) {
  // Up to the password, the redacted form equals the URL.
  std::size_t pos = redact_url(url).find("***");
  if (pos == std::string::npos || pos >= url.size())
    return text;
  std::size_t end = url.find_first_of("@&", pos);
  auto secret = url.substr(pos, end == std::string_view::npos ? url.npos : end - pos);
  for (std::size_t at; !secret.empty() && (at = text.find(secret)) != std::string::npos;)
    text.replace(at, secret.size(), "***");
  return text;
}

// A comma-separated list of ports 1..65535 (one per host); empty: the default.
bool valid_ports(std::string_view ports) {
  std::size_t i = 0;
  while (i < ports.size()) {
    std::size_t end = ports.find(',', i);
    if (end == std::string_view::npos)
      end = ports.size();
    auto port = ports.substr(i, end - i);
    long v = 0;
    if (port.empty() || port.size() > 5)
      return false;
    for (char c : port) {
      if (c < '0' || c > '9')
        return false;
      v = v * 10 + (c - '0');
    }
    if (v < 1 || v > 65535)
      return false;
    i = end + 1;
  }
  return true;
}

} // namespace

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return "<not a URL>";
  std::size_t auth_begin = scheme_end + 3;
  std::size_t auth_end = url.find_first_of("/?", auth_begin);
  if (auth_end == std::string_view::npos)
    auth_end = url.size();
  auto authority = url.substr(auth_begin, auth_end - auth_begin);
  std::string out{url.substr(0, auth_begin)};
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    auto user = authority.substr(0, at);
    auto colon = user.find(':');
    out += colon == std::string_view::npos ? user : user.substr(0, colon + 1);
    if (colon != std::string_view::npos)
      out += "***";
    out += authority.substr(at);
  } else {
    out += authority;
  }
  auto rest = url.substr(auth_end);
  auto q = rest.find('?');
  if (q == std::string_view::npos) {
    out += rest;
  } else {
    out += rest.substr(0, q + 1);
    redact_query(out, rest.substr(q + 1));
  }
  return out;
}

caf::expected<std::string> validate_database_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_parameter, "DATABASE_URL " + why);
  };
  if (!starts_with(url, "postgresql://") && !starts_with(url, "postgres://"))
    return bad("must start with postgresql:// (or postgres://)");
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f)
      return bad("holds a space or control character (percent-encode it)");
  std::string text{url};
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(text.c_str(), &err);
  if (!opts) {
    std::string why = err ? err : "is not a valid connection URI";
    PQfreemem(err);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
      why.pop_back();
    return bad("is invalid (" + redact_url(url) + "): " + hide_password(why, url));
  }
  // libpq checks ports only when connecting: a typo would surface as "cannot connect".
  std::string port;
  for (auto* o = opts; o->keyword; ++o)
    if (std::string_view{o->keyword} == "port" && o->val)
      port = o->val;
  PQconninfoFree(opts);
  if (!valid_ports(port))
    return bad("has an invalid port (" + redact_url(url) + ")");
  return text;
}

} // namespace ebuse::pg
