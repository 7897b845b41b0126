// Small helpers for the HTTP integration tests: requests, seeding, error checks, gzip.
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/eventually.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

namespace ebuse::test {

using json = nlohmann::json;

/// What a test needs of a response; `status` is -1 when the request itself failed.
struct reply {
  int status = -1;
  std::string body;
  httplib::Headers headers;
  httplib::Error error = httplib::Error::Success;

  /// A response header, empty when absent.
  std::string header(const char* name) const {
    auto i = headers.find(name);
    return i == headers.end() ? std::string{} : i->second;
  }

  bool has_header(const char* name) const {
    return headers.find(name) != headers.end();
  }
};

/// Copies a cpp-httplib result into a reply.
inline reply to_reply(const httplib::Result& r) {
  reply out;
  out.error = r.error();
  if (r) {
    out.status = r->status;
    out.body = r->body;
    out.headers = r->headers;
  }
  return out;
}

/// Multi-tenant options: tenants `names` on `<name>.db` in `dir`, each with the key
/// `key-<name>`, and `admin_keys`.
inline registry_options tenants_in(const temp_dir& dir, const std::vector<std::string>& names,
                                   const std::vector<std::string>& admin_keys = {}) {
  registry_options ropts;
  for (auto& n : names)
    ropts.tenants.push_back(tenant_spec{n, dir.file(n + ".db"), digest_of("key-" + n), ""});
  for (auto& k : admin_keys)
    ropts.admin_keys.push_back(digest_of(k));
  return ropts;
}

/// A client of `srv` that presents `key` (none when empty).
inline std::unique_ptr<httplib::Client> client_for(const test_server& srv,
                                                   const std::string& key) {
  auto cli = srv.client(false);
  if (!key.empty())
    cli->set_default_headers({{"X-API-Key", key}});
  return cli;
}

/// The test server's defaults with rate limits high enough never to interfere.
inline server_config quiet_config() {
  auto cfg = test_server::default_config();
  cfg.rate_limit = 1000000;
  cfg.rate_burst = 1000000;
  return cfg;
}

inline reply get(httplib::Client& cli, const std::string& path,
                 const httplib::Headers& headers = {}) {
  return to_reply(cli.Get(path.c_str(), headers));
}

inline reply post(httplib::Client& cli, const std::string& path, const std::string& body,
                  const httplib::Headers& headers = {}) {
  return to_reply(cli.Post(path.c_str(), headers, body, "application/json"));
}

inline reply put(httplib::Client& cli, const std::string& path, const std::string& body,
                 const httplib::Headers& headers = {}) {
  return to_reply(cli.Put(path.c_str(), headers, body, "application/json"));
}

/// One event object as a client would send it; `data` is raw JSON.
inline std::string event_body(const std::string& type, const std::string& data) {
  return "{\"type\":" + json(type).dump() + ",\"data\":" + data + "}";
}

/// A batch array of `count` events numbered from `first_index` (type "t<i mod 7>",
/// data {"i":<i>,"s":"v<i>"}), with a fixed timestamp so read-backs are exact.
inline std::string make_batch(int64_t first_index, int64_t count) {
  std::string out = "[";
  for (int64_t i = first_index; i < first_index + count; ++i) {
    if (i != first_index)
      out.push_back(',');
    out += "{\"type\":\"t" + std::to_string(i % 7) + "\",\"data\":{\"i\":" + std::to_string(i)
           + ",\"s\":\"v" + std::to_string(i) + "\"},\"timestamp\":\"2024-01-01T00:00:00Z\"}";
  }
  out.push_back(']');
  return out;
}

/// The exact wire object GET /events returns for event `i` of make_batch at `position`.
inline std::string expected_batch_event(int64_t i, int64_t position) {
  return "{\"position\":" + std::to_string(position) + ",\"type\":\"t" + std::to_string(i % 7)
         + "\",\"data\":{\"i\":" + std::to_string(i) + ",\"s\":\"v" + std::to_string(i)
         + "\"},\"timestamp\":\"2024-01-01T00:00:00Z\"}";
}

/// The SSE messages of make_batch events first..last at their own positions, as a
/// follow or a finite SSE stream writes them.
inline std::string sse_events(int64_t first, int64_t last) {
  std::string out;
  for (int64_t i = first; i <= last; ++i)
    out += "id: " + std::to_string(i) + "\ndata: " + expected_batch_event(i, i) + "\n\n";
  return out;
}

/// The NDJSON lines of make_batch events first..last at their own positions.
inline std::string ndjson_events(int64_t first, int64_t last) {
  std::string out;
  for (int64_t i = first; i <= last; ++i)
    out += expected_batch_event(i, i) + "\n";
  return out;
}

/// The exact reply of POST /events/batch.
inline std::string batch_reply(int64_t first, int64_t last, int64_t saved) {
  return "{\"first_position\":" + std::to_string(first) + ",\"last_position\":"
         + std::to_string(last) + ",\"saved\":" + std::to_string(saved) + "}\n";
}

/// Appends `total` make_batch events (indices 1..total, so index == position on an empty
/// store) in batches of at most 1000.
inline void seed(httplib::Client& cli, int64_t total) {
  int64_t done = 0;
  while (done < total) {
    int64_t n = std::min<int64_t>(1000, total - done);
    auto r = post(cli, "/events/batch", make_batch(done + 1, n));
    REQUIRE(r.status == 200);
    REQUIRE(r.body == batch_reply(done + 1, done + n, n));
    done += n;
  }
}

/// Checks an error response: exact status, JSON content type, and a body that is a JSON
/// object with string `error` and the stable `code`. Non-fatal, so that a loop over many
/// inputs reports every failing one.
inline void check_error(const reply& r, int status, const std::string& code) {
  INFO("status " << r.status << " body: " << r.body.substr(0, 300));
  CHECK(r.status == status);
  CHECK(r.header("Content-Type") == "application/json");
  auto j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    FAIL_CHECK("error body is not a JSON object");
    return;
  }
  CHECK(j.contains("error"));
  CHECK(j.value("error", json{}).is_string());
  CHECK_FALSE(j.value("error", std::string{}).empty());
  CHECK(j.value("code", json{}) == code);
}

/// Parses a JSON array response and returns it; fails the test if it is not one.
inline json parse_array(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  INFO("body starts: " << body.substr(0, 200));
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.is_array());
  return j;
}

/// Decompresses a gzip stream with the library's own decompressor; false when invalid.
inline bool gunzip(const std::string& in, std::string& out) {
  httplib::detail::gzip_decompressor d;
  if (!d.is_valid())
    return false;
  return d.decompress(in.data(), in.size(), [&out](const char* p, size_t n) {
    out.append(p, n);
    return true;
  });
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` into seconds since the epoch.
inline bool parse_utc_seconds(const std::string& s, std::time_t& out) {
  std::tm tm{};
  char rest[64] = {0};
  if (s.size() < 20 || s.back() != 'Z'
      || std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%63s", &tm.tm_year, &tm.tm_mon,
                     &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, rest)
           < 6)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  out = timegm(&tm);
  return true;
}

} // namespace ebuse::test
