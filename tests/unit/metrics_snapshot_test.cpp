// The live metrics snapshot: rates and windowed percentiles from two samples.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "obs/metrics_snapshot.hpp"

using namespace ebuse;
using json = nlohmann::json;

namespace {

// A latency histogram with `n` observations of `seconds` each on top of `h`'s.
histogram_sample latency_with(histogram_sample h, int n, double seconds) {
  histogram live = make_latency_histogram();
  if (h.n == 0)
    h = histogram_sample::of(live);
  for (std::size_t i = 0; i < h.n; ++i)
    if (seconds <= h.bounds[i]) {
      h.counts[i] += n;
      return h;
    }
  h.counts[h.n] += n;
  return h;
}

tenant_sample running_tenant(const std::string& name, int64_t head, uint64_t commits,
                             uint64_t events) {
  tenant_sample t;
  t.name = name;
  t.running = true;
  t.head = head;
  t.commits = commits;
  t.events = events;
  t.group = histogram_sample::of(make_group_histogram());
  t.commit = histogram_sample::of(make_latency_histogram());
  actor_sample writer;
  writer.name = "writer";
  writer.handling = histogram_sample::of(make_latency_histogram());
  t.actors.push_back(writer);
  return t;
}

metrics_sample base(double time) {
  metrics_sample s;
  s.time = time;
  s.tenants_active = 1;
  s.tenants_configured = 2;
  s.limiter = true;
  route_sample post;
  post.name = "events_post";
  post.latency = histogram_sample::of(make_latency_histogram());
  s.routes.push_back(post);
  return s;
}

} // namespace

TEST_CASE("the first snapshot has no rates; later ones divide by the interval",
          "[obs][snapshot]") {
  auto a = base(1000.0);
  a.tenants.push_back(running_tenant("alpha", 100, 10, 100));
  tenant_sample idle;
  idle.name = "beta";
  a.tenants.push_back(idle);
  a.routes[0].by_class[1] = 50;
  a.routes[0].latency = latency_with(a.routes[0].latency, 50, 0.020);
  a.limiter_denied = 4;

  auto first = json::parse(render_snapshot(a, nullptr));
  CHECK(first["interval"] == 0);
  CHECK(first["totals"]["events_per_s"] == 0);
  CHECK(first["tenants"][0]["events_per_s"] == 0);
  CHECK(first["tenants"][1] == json{{"name", "beta"}, {"running", false}, {"head", 0}});
  // Without a previous sample the percentiles cover everything so far.
  CHECK(first["latency"]["appends"]["count"] == 50);

  auto b = a;
  b.time = 1002.0;
  b.tenants[0] = running_tenant("alpha", 400, 30, 400);
  b.tenants[0].group.counts[4] = 20; // 20 commits of 11..20 events
  b.routes[0].by_class[1] = 60;
  b.routes[0].latency = latency_with(a.routes[0].latency, 10, 0.0003);
  b.limiter_denied = 10;
  auto second = json::parse(render_snapshot(b, &a));
  CHECK(second["interval"] == 2);
  CHECK(second["totals"]["events_per_s"] == 150);
  CHECK(second["totals"]["commits_per_s"] == 10);
  CHECK(second["totals"]["requests_per_s"] == 5);
  CHECK(second["rate_limiter"]["denied_per_s"] == 3);
  CHECK(second["rate_limiter"]["denied"] == 10);
  const auto& alpha = second["tenants"][0];
  CHECK(alpha["head"] == 400);
  CHECK(alpha["events_per_commit"]["mean"] == 15);
  CHECK(alpha["events_per_commit"]["p95_at_most"] == 20);
  // Only the ten fast requests of this interval count, not the slow ones before.
  CHECK(second["latency"]["appends"]["count"] == 10);
  CHECK(second["latency"]["appends"]["p99"].get<double>() < 0.5);
  CHECK(second["routes"][0]["route"] == "events_post");
  CHECK(second["routes"][0]["per_s"] == 5);
}

TEST_CASE("a restarted tenant counts from zero; an empty window has null percentiles",
          "[obs][snapshot]") {
  auto a = base(10.0);
  a.tenants.push_back(running_tenant("alpha", 500, 100, 1000));
  auto b = base(11.0);
  // Counters below the previous ones: the tenant was stopped and started again.
  b.tenants.push_back(running_tenant("alpha", 520, 2, 20));
  auto j = json::parse(render_snapshot(b, &a));
  CHECK(j["tenants"][0]["events_per_s"] == 20);
  CHECK(j["tenants"][0]["commits_per_s"] == 2);
  CHECK(j["tenants"][0]["commit_ms"]["p99"].is_null());
  CHECK(j["latency"]["appends"]["p50"].is_null());
  CHECK(j["tenants"][0]["actors"][0]["actor"] == "writer");
  CHECK(j["tenants"][0]["subscriptions"].is_null());
}

TEST_CASE("subscriptions carry their lag behind the head; names are escaped",
          "[obs][snapshot]") {
  auto a = base(1.0);
  auto t = running_tenant("alpha", 1000, 1, 1);
  t.subscriptions_known = true;
  t.subscriptions_total = 3;
  t.subscriptions = {{"billing \"eu\"\n", 200}, {"audit", 990}, {"ahead", 1200}};
  a.tenants.push_back(t);
  a.limiter = false;
  auto j = json::parse(render_snapshot(a, nullptr));
  const auto& subs = j["tenants"][0]["subscriptions"];
  CHECK(subs["total"] == 3);
  CHECK(subs["items"][0]["id"] == "billing \"eu\"\n");
  CHECK(subs["items"][0]["lag"] == 800);
  CHECK(subs["items"][1]["lag"] == 10);
  CHECK(subs["items"][2]["lag"] == 0);
  CHECK(j["rate_limiter"].is_null());
}
