// Samples the published figures for the live stream and drives its ticks.
#include "http/metrics_stream.hpp"

#include <caf/send.hpp>

#include "actors/tenant.hpp"
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/request_state.hpp"

namespace ebuse {

namespace {

// Subscriptions shown per tenant: the furthest behind.
constexpr std::size_t shown_subscriptions = 20;

actor_sample actor_of(const char* name, const actor_metrics& a) {
  actor_sample s;
  s.name = name;
  s.handled = a.handled.load(std::memory_order_relaxed);
  s.mailbox = a.mailbox.load(std::memory_order_relaxed);
  s.mailbox_peak = a.mailbox_peak.load(std::memory_order_relaxed);
  s.handling = histogram_sample::of(a.handling);
  return s;
}

tenant_sample tenant_of(const tenant& t, const caf::expected<subscription_list>& subs) {
  const auto& st = t.stats();
  tenant_sample s;
  s.name = t.name();
  s.running = true;
  s.head = st.head.load(std::memory_order_acquire);
  s.commits = st.commits.load(std::memory_order_relaxed);
  s.events = st.events_written.load(std::memory_order_relaxed);
  s.failed_commits = st.failed_commits.load(std::memory_order_relaxed);
  s.max_group = st.max_group.load(std::memory_order_relaxed);
  s.group = histogram_sample::of(st.group_events);
  s.commit = histogram_sample::of(st.commit_latency);
  s.db_bytes = file_size(t.db_path());
  s.wal_bytes = file_size(t.db_path() + "-wal");
  s.actors = {actor_of("writer", st.writer), actor_of("readers", st.readers),
              actor_of("subscriptions", st.subscriptions)};
  if (subs) {
    s.subscriptions_known = true;
    s.subscriptions_total = subs->total;
    s.subscriptions = subs->positions;
  }
  return s;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

metrics_sample sample_metrics(const metrics_view& v,
                              const std::vector<caf::expected<subscription_list>>& subs) {
  metrics_sample s;
  s.time = unix_now();
  auto p = read_process(*v.http);
  s.uptime = p.uptime;
  s.rss_bytes = p.rss_bytes;
  s.threads = p.threads;
  s.tenants_active = v.registry->active.load();
  s.tenants_configured = v.registry->configured.load();
  s.connections_open = static_cast<int64_t>(v.connections.open);
  s.connections_idle = static_cast<int64_t>(v.connections.idle);
  s.connections_queued = static_cast<int64_t>(v.connections.queued);
  if (v.limiter) {
    s.limiter = true;
    for (auto scope : {rate_scope::ip, rate_scope::key})
      if (auto table = v.limiter->table(scope)) {
        s.limiter_allowed += table->allowed.load();
        s.limiter_denied += table->denied.load();
      }
  }
  for (const auto& name : v.configured) {
    std::size_t i = 0;
    while (i < v.tenants.size() && v.tenants[i]->name() != name)
      ++i;
    if (i < v.tenants.size()) {
      s.tenants.push_back(tenant_of(*v.tenants[i], subs[i]));
    } else {
      tenant_sample idle;
      idle.name = name;
      s.tenants.push_back(std::move(idle));
    }
  }
  for (std::size_t i = 0; i < v.http->labels().size(); ++i) {
    const auto& m = v.http->route(i);
    route_sample r;
    r.name = v.http->labels()[i];
    for (std::size_t c = 0; c < r.by_class.size(); ++c)
      r.by_class[c] = m.by_class[c].load(std::memory_order_relaxed);
    r.latency = histogram_sample::of(m.latency);
    s.routes.push_back(std::move(r));
  }
  s.actors.push_back(actor_of("registry", v.registry->actor));
  if (v.limiter)
    s.actors.push_back(actor_of("rate_limiter", v.limiter->actor_stats()));
  return s;
}

std::string metrics_ticker::tick() {
  auto view = view_();
  // Positions live in each tenant's subscription actor: ask them all, then wait for
  // the answers against one deadline.
  std::vector<reply_future<subscription_list>> asked;
  for (const auto& t : view.tenants) {
    auto [tx, rx] = make_reply<subscription_list>();
    caf::anon_send(t->subscriptions(), sub_list_cmd{shown_subscriptions, std::move(tx)});
    asked.push_back(std::move(rx));
  }
  auto deadline = std::chrono::steady_clock::now() + ask_timeout_;
  std::vector<caf::expected<subscription_list>> subs;
  for (auto& rx : asked)
    subs.push_back(
      await(rx, std::max(deadline - std::chrono::steady_clock::now(),
                         std::chrono::steady_clock::duration::zero())));
  auto now = std::make_unique<metrics_sample>(sample_metrics(view, subs));
  std::string event = prev_ ? "data: " : "retry: 3000\ndata: ";
  event += render_snapshot(*now, prev_.get());
  event += "\n\n";
  prev_ = std::move(now);
  return event;
}

namespace {

// One dashboard's stream: a snapshot every `interval` until the server stops. After its
// first event it goes on in the event loop, holding no worker between ticks.
struct metrics_feed : response_continuation {
  std::shared_ptr<metrics_ticker> ticker;
  stop_signal* stopped = nullptr;
  std::chrono::steady_clock::duration interval;
  bool started = false;
  std::chrono::steady_clock::time_point next;

  std::string tick() {
    started = true;
    next = std::chrono::steady_clock::now() + interval;
    return ticker->tick();
  }

  continuation_step next_part(std::string& out, bool stopping,
                              const continuation_park& park) override {
    if (stopping || stopped->raised()) {
      out.append(last_chunk);
      return continuation_step::end;
    }
    if (std::chrono::steady_clock::now() < next) {
      // Nothing wakes it but its next tick and the shutdown.
      park(next, [](const std::function<void()>&) { return std::function<void()>{}; });
      return continuation_step::wait;
    }
    append_chunk(out, tick());
    return continuation_step::more;
  }
};

} // namespace

void stream_metrics(httplib::Response& res, std::shared_ptr<metrics_ticker> ticker,
                    stop_signal& stopped, std::chrono::nanoseconds interval) {
  auto st = std::make_shared<metrics_feed>();
  st->ticker = std::move(ticker);
  st->stopped = &stopped;
  st->interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
  res.set_header("Cache-Control", "no-store");
  // Proxies that buffer responses (nginx) would hold the events back.
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream", [st](size_t, httplib::DataSink& sink) {
    if (st->started && continue_in_loop(st))
      return false; // the loop goes on with next_part(); the library writes no more
    if (st->started && st->stopped->wait_until(st->next)) {
      sink.done();
      return true;
    }
    auto event = st->tick();
    current_request().body_bytes += event.size();
    if (!sink.write(event.data(), event.size()))
      return false;
    flush_response();
    return true;
  });
}

} // namespace ebuse
