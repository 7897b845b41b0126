// The request pipeline's stages, each run alone on a hand-made request, over a real
// tenant registry and a real rate limiter.
#include <catch2/catch.hpp>

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "http/pipeline.hpp"
#include "obs/logger.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;

namespace {

constexpr const char* tenant_key = "tenant-key";
constexpr const char* admin_key = "admin-key";

struct pipeline_fixture {
  test::temp_dir dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<tenant_registry> registry;
  http_metrics metrics{route_labels()};
  http_options opts;

  pipeline_fixture() {
    registry_options ropts;
    ropts.tenants.push_back({"acme", dir.file("acme.db"), digest_of(tenant_key), ""});
    ropts.admin_keys.push_back(digest_of(admin_key));
    registry = *tenant_registry::start(sys, ropts);
  }

  ~pipeline_fixture() {
    registry->stop_all();
  }

  request_pipeline make(std::shared_ptr<rate_limiter> limiter = nullptr) {
    return request_pipeline{opts, registry, std::move(limiter), metrics};
  }

  // Bursts of `burst` requests, refilled once a second: a test never sees a refill.
  std::shared_ptr<rate_limiter> limiter(int64_t burst) {
    rate_limiter_options lo;
    lo.per_ip = {1, burst};
    lo.per_key = {1, burst};
    lo.clock = [] { return int64_t{1} << 40; }; // stands still: no token comes back
    return rate_limiter::start(sys, lo);
  }
};

httplib::Request request(const char* method, const char* path,
                         std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.remote_addr = "192.0.2.7";
  for (auto& [k, v] : headers)
    req.headers.emplace(k, v);
  return req;
}

} // namespace

TEST_CASE("client address: the peer, or what trusted proxies forward") {
  httplib::Request req = request("GET", "/position", {{"X-Forwarded-For", "203.0.113.9"}});
  request_headers headers;
  headers.scan(req);
  trusted_proxies none, proxies;
  std::string err;
  REQUIRE(trusted_proxies::parse("10.0.0.0/8", proxies, err));
  CHECK(client_address(req, "10.1.1.1", headers, none) == "10.1.1.1");
  CHECK(client_address(req, "10.1.1.1", headers, proxies) == "203.0.113.9");
  CHECK(client_address(req, "192.0.2.1", headers, proxies) == "192.0.2.1"); // not a proxy
}

TEST_CASE("framing: form bodies are JSON, a POST without length has an empty body") {
  auto req = request("POST", "/events", {{"Content-Type", "application/x-www-form-urlencoded"}});
  request_headers headers;
  headers.scan(req);
  normalize_framing(req, headers);
  CHECK(req.get_header_value("Content-Type") == "application/json");
  CHECK(req.get_header_value("Content-Length") == "0");
  CHECK_FALSE(headers.has_body());
  auto get = request("GET", "/position");
  headers.scan(get);
  normalize_framing(get, headers);
  CHECK_FALSE(get.has_header("Content-Length"));
}

TEST_CASE("framing: a multipart body is read as sent, a stream keeps its type") {
  const char* type = "multipart/form-data; boundary=b";
  auto req = request("POST", "/events", {{"Content-Type", type}});
  request_headers headers;
  headers.scan(req);
  normalize_framing(req, headers);
  CHECK_FALSE(req.is_multipart_form_data());
  CHECK(req.get_header_value("Content-Type") == "application/json");
  auto stream = request("POST", "/v1/stream/s", {{"Content-Type", type}});
  headers.scan(stream);
  normalize_framing(stream, headers, true);
  CHECK_FALSE(stream.is_multipart_form_data());
  CHECK(headers.sent_content_type() == type);
}

TEST_CASE_METHOD(pipeline_fixture, "identify: address, route and gzip, Accept-Encoding gone") {
  auto p = make();
  auto req = request("GET", "/events/stream", {{"Accept-Encoding", "gzip"}});
  request_state st;
  p.identify(req, st);
  CHECK(st.client == "192.0.2.7");
  CHECK(st.routed);
  CHECK(st.match.status == 200);
  CHECK(route_labels()[st.match.label_index()] == std::string{"events_stream"});
  CHECK(st.accepts_gzip);
  CHECK_FALSE(req.has_header("Accept-Encoding"));
}

TEST_CASE_METHOD(pipeline_fixture, "refuse: ambiguous framing, then everything once stopping") {
  auto p = make();
  auto req = request("POST", "/events", {{"Content-Length", "3"}, {"Content-Length", "4"}});
  request_state st;
  p.identify(req, st);
  httplib::Response res;
  REQUIRE(p.refuse(res, st));
  CHECK(res.status == 400);
  CHECK(res.get_header_value("Connection") == "close");
  auto ok = request("GET", "/position");
  p.identify(ok, st);
  httplib::Response fine;
  CHECK_FALSE(p.refuse(fine, st));
  p.stop();
  REQUIRE(p.refuse(fine, st));
  CHECK(fine.status == 503);
  CHECK(fine.body.find("shutting_down") != std::string::npos);
}

TEST_CASE_METHOD(pipeline_fixture, "authenticate: as the route requires") {
  auto p = make();
  auto run = [&](const char* method, const char* path, const char* key, request_state& st,
                 httplib::Response& res) {
    auto req = key ? request(method, path, {{"X-API-Key", key}}) : request(method, path);
    p.identify(req, st);
    return p.authenticate(req, res, st);
  };
  request_state st;
  httplib::Response res;
  CHECK(run("GET", "/health", nullptr, st, res)); // no key needed
  CHECK(!st.t);
  CHECK(run("GET", "/position", tenant_key, st, res));
  REQUIRE(st.t);
  CHECK(st.t->name() == "acme");
  request_state admin;
  CHECK(run("GET", "/metrics", admin_key, admin, res));
  CHECK(admin.admin);
  CHECK(!admin.t);
  for (const char* path : {"/position", "/nope"}) {
    request_state refused;
    httplib::Response r401;
    CHECK_FALSE(run("GET", path, admin_key, refused, r401)); // opens no tenant
    CHECK(r401.status == 401);
    httplib::Response none;
    CHECK_FALSE(run("GET", path, nullptr, refused, none));
    CHECK(none.status == 401);
  }
  opts.metrics_public = true;
  auto open = make();
  auto scrape = request("GET", "/metrics/prometheus");
  request_state pub;
  open.identify(scrape, pub);
  httplib::Response r;
  CHECK(open.authenticate(scrape, r, pub));
  CHECK(pub.admin);
}

TEST_CASE_METHOD(pipeline_fixture, "admission: per client on limited routes, then per key") {
  REQUIRE(*registry->find(tenant_key));
  auto p = make(limiter(2));
  auto once = [&](const char* path, const char* key) {
    auto req = request("GET", path, {{"X-API-Key", key}});
    request_state st;
    httplib::Response res;
    p.identify(req, st);
    bool ok = p.admit_client(res, st) && p.authenticate(req, res, st) && p.admit_key(res, st);
    return std::make_pair(ok, res);
  };
  CHECK(once("/position", tenant_key).first);
  auto second = once("/position", tenant_key);
  CHECK(second.first);
  CHECK(second.second.get_header_value("RateLimit-Remaining") == "0");
  auto third = once("/position", tenant_key);
  CHECK_FALSE(third.first);
  CHECK(third.second.status == 429);
  CHECK(third.second.get_header_value("Retry-After") == "1");
  CHECK(once("/health", tenant_key).first); // never limited
}

TEST_CASE_METHOD(pipeline_fixture, "log: the route's figures, and the tenant released") {
  log::set_level("warn"); // no request lines in the test output
  auto p = make();
  auto req = request("GET", "/position", {{"X-API-Key", tenant_key}});
  request_state st;
  st.start = std::chrono::steady_clock::now();
  httplib::Response res;
  p.identify(req, st);
  REQUIRE(p.authenticate(req, res, st));
  res.status = 200;
  res.body = "{\"position\":0}\n";
  p.log(req, res, st);
  CHECK(!st.t);
  auto i = st.match.label_index();
  CHECK(metrics.route(i).by_class[1].load() == 1);
  CHECK(metrics.bytes_out.load() == res.body.size());
  // A request the parser rejected was never identified: it is labelled from its line.
  request_state rejected;
  httplib::Response bad;
  bad.status = 400;
  p.log(request("GET", "/nope"), bad, rejected);
  CHECK(metrics.route(other_label_index()).by_class[3].load() == 1);
  log::set_level("info");
}
