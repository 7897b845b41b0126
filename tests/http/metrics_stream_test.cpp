// GET /metrics/stream (server-sent events for an admin) and GET /dashboard (the page).
#include <atomic>
#include <future>
#include <thread>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "support/chunked_followers.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/park_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

registry_options two_tenants(const temp_dir& dir) {
  return tenants_in(dir, {"a", "b"}, {"admin-key"});
}

/// Reads `count` events of the stream (then hangs up); their `data:` JSON in order.
std::vector<json> read_events(httplib::Client& cli, std::size_t count, reply& head) {
  std::vector<json> events;
  std::string buf;
  auto res = cli.Get(
    "/metrics/stream", httplib::Headers{},
    [&](const httplib::Response& r) {
      head.status = r.status;
      head.headers = r.headers;
      return true;
    },
    [&](const char* data, size_t len) {
      buf.append(data, len);
      for (auto end = buf.find("\n\n"); end != std::string::npos; end = buf.find("\n\n")) {
        auto block = buf.substr(0, end);
        buf.erase(0, end + 2);
        auto at = block.find("data: ");
        if (at != std::string::npos)
          events.push_back(json::parse(block.substr(at + 6), nullptr, false));
      }
      return events.size() < count;
    });
  return events;
}

std::string sha256_base64(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, SHA256_DIGEST_LENGTH);
  return std::string{reinterpret_cast<char*>(out), static_cast<size_t>(n)};
}

std::string between(const std::string& s, const std::string& open, const std::string& close) {
  auto a = s.find(open);
  auto b = s.find(close, a);
  if (a == std::string::npos || b == std::string::npos)
    return {};
  return s.substr(a + open.size(), b - a - open.size());
}

} // namespace

TEST_CASE("the metrics stream sends a snapshot a second to an admin", "[http][metrics][stream]") {
  temp_dir dir;
  test_server srv{two_tenants(dir), quiet_config()};
  auto a = client_for(srv, "key-a");
  seed(*a, 300);
  REQUIRE(post(*a, "/subscriptions/mailer/position", "{\"position\":120}").status == 204);

  check_error(get(*client_for(srv, ""), "/metrics/stream"), 401, "unauthorized");
  check_error(get(*client_for(srv, "key-a"), "/metrics/stream"), 403, "forbidden");

  auto admin = client_for(srv, "admin-key");
  reply head;
  auto events = read_events(*admin, 2, head);
  REQUIRE(head.status == 200);
  CHECK(head.header("Content-Type") == "text/event-stream");
  CHECK(head.header("Cache-Control") == "no-store");
  REQUIRE(events.size() == 2);
  for (auto& e : events)
    REQUIRE_FALSE(e.is_discarded());
  CHECK(events[0]["interval"] == 0);
  CHECK(events[1]["interval"].get<double>() >= 0.9);
  CHECK(events[1]["time"].get<double>() > events[0]["time"].get<double>());
  CHECK(events[1]["tenants_configured"] == 2);
  const auto& tenants = events[1]["tenants"];
  REQUIRE(tenants.size() == 2);
  CHECK(tenants[0]["name"] == "a");
  CHECK(tenants[0]["running"] == true);
  CHECK(tenants[0]["head"] == 300);
  CHECK(tenants[0]["actors"].size() == 3);
  CHECK(tenants[0]["subscriptions"]["items"][0]
        == json{{"id", "mailer"}, {"position", 120}, {"lag", 180}});
  CHECK(tenants[1] == json{{"name", "b"}, {"running", false}, {"head", 0}});
  CHECK(events[1]["connections"]["open"].get<int>() >= 1);
}

TEST_CASE("an open metrics stream ends when the server stops", "[http][metrics][stream]") {
  temp_dir dir;
  test_server srv{two_tenants(dir), quiet_config()};
  auto admin = client_for(srv, "admin-key");
  std::promise<void> first;
  std::atomic<int> seen{0};
  std::thread reader{[&] {
    admin->Get("/metrics/stream", [&](const char*, size_t) {
      if (seen++ == 0)
        first.set_value();
      return true; // reads until the server ends the stream
    });
  }};
  REQUIRE(first.get_future().wait_for(10s) == std::future_status::ready);
  auto start = std::chrono::steady_clock::now();
  srv.stop(); // returns once every worker, the stream's among them, has finished
  auto took = std::chrono::steady_clock::now() - start;
  reader.join();
  CHECK(took < 5s);
}

TEST_CASE("metrics streams wait between ticks without a worker, and end at shutdown",
          "[http][metrics][stream]") {
  temp_dir dir;
  test_server srv{two_tenants(dir), loop_config(4)};
  chunked_followers f{srv.port(), 8,
                      "GET /metrics/stream HTTP/1.1\r\nHost: x\r\nX-API-Key: admin-key\r\n\r\n"};
  auto events = [](std::size_t n) {
    return [n](const chunked_response& r) {
      std::size_t seen = 0;
      for (auto at = r.body.find("data: "); at != std::string::npos;
           at = r.body.find("data: ", at + 1))
        ++seen;
      return r.bad || r.closed || seen >= n;
    };
  };
  // Two ticks each: the second written by the loop, with 8 streams on 4 workers.
  REQUIRE(f.read_until(events(2), 20s));
  auto admin = client_for(srv, "admin-key");
  admin->set_read_timeout(5);
  // All 8 in the loop at some moment (one may be rendering a tick at any other).
  CHECK(eventually([&] {
    auto m = get(*admin, "/metrics");
    return m.status == 200 && json::parse(m.body)["http"]["connections"]["following"] == 8;
  }));
  auto start = std::chrono::steady_clock::now();
  std::thread stopper{[&] { srv.stop_http(); }};
  bool ended = f.read_until([](const chunked_response& r) { return r.bad || (r.ended && r.closed); },
                            20s);
  stopper.join();
  CHECK(ended);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  for (std::size_t i = 0; i < f.size(); ++i) {
    INFO("stream " << i);
    CHECK_FALSE(f[i].bad);
    CHECK(f[i].body.rfind("retry: 3000\ndata: {", 0) == 0);
  }
}

TEST_CASE("the dashboard page is self-contained under a strict policy", "[http][dashboard]") {
  temp_dir dir;
  test_server srv{two_tenants(dir), quiet_config()};
  auto r = get(*client_for(srv, ""), "/dashboard");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
  CHECK(r.header("Referrer-Policy") == "no-referrer");
  // Nothing is fetched from elsewhere: no external script, style, font or image.
  for (const char* outside : {"src=", "href=\"http", "href=\"//", "url(", "@import",
                              "<link rel=\"stylesheet", "fetch(\"http"})
    CHECK(r.body.find(outside) == std::string::npos);
  // The inline script and style are exactly what the policy's hashes allow.
  auto script = between(r.body, "<script>", "</script>");
  auto style = between(r.body, "<style>", "</style>");
  REQUIRE(script.size() > 1000);
  REQUIRE(style.size() > 1000);
  auto csp = r.header("Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("script-src 'sha256-" + sha256_base64(script) + "'") != std::string::npos);
  CHECK(csp.find("style-src 'sha256-" + sha256_base64(style) + "'") != std::string::npos);
  CHECK(csp.find("connect-src 'self'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  check_error(post(*client_for(srv, ""), "/dashboard", ""), 405, "method_not_allowed");
}
