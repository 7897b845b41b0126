// Renders a metrics sample against the previous one: rates and windowed percentiles.
#include "obs/metrics_snapshot.hpp"

#include <cstdio>
#include <map>

#include "core/json_text.hpp"

namespace ebuse {

histogram_sample histogram_sample::of(const histogram& h) noexcept {
  histogram_sample s;
  s.n = h.size();
  for (std::size_t i = 0; i < s.n; ++i)
    s.bounds[i] = h.bound(i);
  for (std::size_t i = 0; i <= s.n; ++i)
    s.counts[i] = h.bucket(i);
  return s;
}

namespace {

// Decimal with at most three fraction digits and no trailing zeros.
std::string fixed(double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  std::string s = buf;
  while (s.back() == '0')
    s.pop_back();
  if (s.back() == '.')
    s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string i64(int64_t v) {
  return std::to_string(v);
}

// A counter's growth since `prev`; a counter below its previous value was reset (the
// tenant restarted) and counts from zero.
uint64_t growth(uint64_t now, uint64_t prev) {
  return now >= prev ? now - prev : now;
}

// The observations of `now` since `prev` (all of them without `prev`, or after a reset).
histogram_sample since(const histogram_sample& now, const histogram_sample* prev) {
  if (!prev || prev->n != now.n)
    return now;
  histogram_sample d = now;
  for (std::size_t i = 0; i <= now.n; ++i) {
    if (now.counts[i] < prev->counts[i])
      return now;
    d.counts[i] = now.counts[i] - prev->counts[i];
  }
  return d;
}

uint64_t total(const histogram_sample& h) {
  uint64_t t = 0;
  for (std::size_t i = 0; i <= h.n; ++i)
    t += h.counts[i];
  return t;
}

// `null` without observations, else the quantile scaled by `scale` (1e3: ms).
std::string quantile(const histogram_sample& h, double q, double scale) {
  if (total(h) == 0)
    return "null";
  return fixed(quantile_of(h.bounds.data(), h.n, h.counts.data(), q) * scale);
}

// The upper bound of the bucket holding quantile `q` (null without observations): for
// counts such as events per commit, where interpolating inside a bucket would invent
// fractions ("p95 0.9" of commits that all held one event).
std::string quantile_bound(const histogram_sample& h, double q) {
  auto all = total(h);
  if (all == 0)
    return "null";
  auto rank = q * static_cast<double>(all);
  double seen = 0;
  for (std::size_t i = 0; i < h.n; ++i) {
    seen += static_cast<double>(h.counts[i]);
    if (seen >= rank)
      return fixed(h.bounds[i]);
  }
  return fixed(h.bounds[h.n - 1]); // beyond the last bound: report the bound
}

std::string percentiles_ms(const histogram_sample& h) {
  return "{\"p50\":" + quantile(h, 0.5, 1e3) + ",\"p95\":" + quantile(h, 0.95, 1e3)
         + ",\"p99\":" + quantile(h, 0.99, 1e3) + ",\"count\":" + i64(total(h)) + "}";
}

struct window {
  double seconds = 0; ///< 0 for the first tick: rates are 0
  std::string rate(uint64_t now, uint64_t prev) const {
    return seconds > 0 ? fixed(static_cast<double>(growth(now, prev)) / seconds) : "0";
  }
};

std::string actors_json(const std::vector<actor_sample>& now,
                        const std::vector<actor_sample>* prev, const window& w) {
  std::string out = "[";
  for (std::size_t i = 0; i < now.size(); ++i) {
    const auto& a = now[i];
    const actor_sample* p = prev && i < prev->size() && (*prev)[i].name == a.name
                              ? &(*prev)[i] : nullptr;
    if (i > 0)
      out += ',';
    out += "{\"actor\":";
    json::append_quoted(a.name, out);
    out += ",\"per_s\":" + w.rate(a.handled, p ? p->handled : a.handled)
           + ",\"mailbox\":" + i64(a.mailbox) + ",\"mailbox_peak\":" + i64(a.mailbox_peak)
           + ",\"p99_ms\":" + quantile(since(a.handling, p ? &p->handling : nullptr), 0.99, 1e3)
           + "}";
  }
  return out + "]";
}

std::string subscriptions_json(const tenant_sample& t) {
  if (!t.subscriptions_known)
    return "null";
  std::string out = "{\"total\":" + i64(t.subscriptions_total) + ",\"items\":[";
  for (std::size_t i = 0; i < t.subscriptions.size(); ++i) {
    const auto& [id, pos] = t.subscriptions[i];
    if (i > 0)
      out += ',';
    out += "{\"id\":";
    json::append_quoted(id, out);
    out += ",\"position\":" + i64(pos) + ",\"lag\":" + i64(t.head > pos ? t.head - pos : 0)
           + "}";
  }
  return out + "]}";
}

std::string tenant_json(const tenant_sample& t, const tenant_sample* p, const window& w) {
  std::string out = "{\"name\":";
  json::append_quoted(t.name, out);
  out += ",\"running\":";
  out += t.running ? "true" : "false";
  out += ",\"head\":" + i64(t.head);
  if (!t.running)
    return out + "}";
  if (p && !p->running)
    p = nullptr;
  uint64_t commits = growth(t.commits, p ? p->commits : 0);
  uint64_t events = growth(t.events, p ? p->events : 0);
  auto group = since(t.group, p ? &p->group : nullptr);
  out += ",\"events_per_s\":" + w.rate(t.events, p ? p->events : t.events)
         + ",\"commits_per_s\":" + w.rate(t.commits, p ? p->commits : t.commits)
         + ",\"events_per_commit\":{\"mean\":"
         + (commits > 0 ? fixed(static_cast<double>(events) / static_cast<double>(commits))
                        : std::string{"null"})
         + ",\"p95_at_most\":" + quantile_bound(group, 0.95) + ",\"max\":" + i64(t.max_group)
         + "}"
         + ",\"commit_ms\":" + percentiles_ms(since(t.commit, p ? &p->commit : nullptr))
         + ",\"failed_commits\":" + i64(t.failed_commits) + ",\"db_bytes\":" + i64(t.db_bytes)
         + ",\"wal_bytes\":" + i64(t.wal_bytes)
         + ",\"actors\":" + actors_json(t.actors, p ? &p->actors : nullptr, w)
         + ",\"subscriptions\":" + subscriptions_json(t) + "}";
  return out;
}

// The routes of `names` merged: their requests in the window, one latency histogram.
histogram_sample merged(const metrics_sample& now, const metrics_sample* prev,
                        std::initializer_list<const char*> names) {
  histogram_sample sum;
  for (std::size_t i = 0; i < now.routes.size(); ++i) {
    bool wanted = false;
    for (const char* n : names)
      wanted = wanted || now.routes[i].name == n;
    if (!wanted)
      continue;
    auto d = since(now.routes[i].latency, prev && i < prev->routes.size()
                                            ? &prev->routes[i].latency : nullptr);
    sum.n = d.n;
    sum.bounds = d.bounds;
    for (std::size_t b = 0; b <= d.n; ++b)
      sum.counts[b] += d.counts[b];
  }
  return sum;
}

std::string http_json(const metrics_sample& now, const metrics_sample* prev,
                      const window& w, uint64_t& requests, uint64_t& errors) {
  std::string out = "[";
  bool first = true;
  for (std::size_t i = 0; i < now.routes.size(); ++i) {
    const auto& r = now.routes[i];
    const route_sample* p = prev && i < prev->routes.size() ? &prev->routes[i] : nullptr;
    uint64_t all = 0, all_prev = 0;
    for (int c = 0; c < 5; ++c) {
      all += r.by_class[c];
      all_prev += p ? p->by_class[c] : r.by_class[c];
    }
    requests += growth(all, all_prev);
    errors += growth(r.by_class[4], p ? p->by_class[4] : r.by_class[4]);
    if (all == 0)
      continue;
    auto lat = since(r.latency, p ? &p->latency : nullptr);
    out += first ? "" : ",";
    first = false;
    out += "{\"route\":\"" + r.name + "\",\"per_s\":" + w.rate(all, all_prev)
           + ",\"p50\":" + quantile(lat, 0.5, 1e3) + ",\"p95\":" + quantile(lat, 0.95, 1e3)
           + ",\"p99\":" + quantile(lat, 0.99, 1e3) + ",\"4xx\":" + i64(r.by_class[3])
           + ",\"5xx\":" + i64(r.by_class[4]) + "}";
  }
  return out + "]";
}

} // namespace

std::string render_snapshot(const metrics_sample& now, const metrics_sample* prev) {
  window w;
  if (prev && now.time > prev->time)
    w.seconds = now.time - prev->time;
  std::map<std::string, const tenant_sample*> before;
  if (prev)
    for (const auto& t : prev->tenants)
      before.emplace(t.name, &t);
  std::string tenants = "[";
  uint64_t events = 0, commits = 0;
  for (std::size_t i = 0; i < now.tenants.size(); ++i) {
    const auto& t = now.tenants[i];
    auto found = before.find(t.name);
    const tenant_sample* p = found == before.end() ? nullptr : found->second;
    if (t.running && p && p->running) {
      events += growth(t.events, p->events);
      commits += growth(t.commits, p->commits);
    }
    tenants += (i > 0 ? "," : "") + tenant_json(t, p, w);
  }
  tenants += "]";
  uint64_t requests = 0, errors = 0;
  auto routes = http_json(now, prev, w, requests, errors);
  auto per_s = [&w](uint64_t n) {
    return w.seconds > 0 ? fixed(static_cast<double>(n) / w.seconds) : std::string{"0"};
  };
  std::string out = "{\"time\":" + fixed(now.time) + ",\"interval\":" + fixed(w.seconds)
                    + ",\"uptime\":" + fixed(now.uptime) + ",\"process\":{\"rss_bytes\":"
                    + i64(now.rss_bytes) + ",\"threads\":" + i64(now.threads) + "}"
                    + ",\"tenants_active\":" + i64(now.tenants_active)
                    + ",\"tenants_configured\":" + i64(now.tenants_configured)
                    + ",\"connections\":{\"open\":" + i64(now.connections_open)
                    + ",\"idle\":" + i64(now.connections_idle)
                    + ",\"queued\":" + i64(now.connections_queued) + "}";
  out += ",\"rate_limiter\":";
  if (now.limiter)
    out += "{\"allowed_per_s\":"
           + w.rate(now.limiter_allowed, prev ? prev->limiter_allowed : now.limiter_allowed)
           + ",\"denied_per_s\":"
           + w.rate(now.limiter_denied, prev ? prev->limiter_denied : now.limiter_denied)
           + ",\"denied\":" + i64(static_cast<int64_t>(now.limiter_denied)) + "}";
  else
    out += "null";
  out += ",\"totals\":{\"events_per_s\":" + per_s(events) + ",\"commits_per_s\":"
         + per_s(commits) + ",\"requests_per_s\":" + per_s(requests)
         + ",\"errors_per_s\":" + per_s(errors) + "}";
  out += ",\"latency\":{\"appends\":"
         + percentiles_ms(merged(now, prev, {"events_post", "events_batch"}))
         + ",\"reads\":"
         + percentiles_ms(merged(now, prev, {"events_get", "events_stream", "events_export"}))
         + "}";
  out += ",\"routes\":" + routes + ",\"tenants\":" + tenants
         + ",\"actors\":" + actors_json(now.actors, prev ? &prev->actors : nullptr, w) + "}";
  return out;
}

} // namespace ebuse
