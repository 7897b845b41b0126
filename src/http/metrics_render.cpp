// Renders the figures every actor, tenant and route publishes; reads are lock-free.
#include "http/metrics_render.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "storage/event_json.hpp"
#include "storage/json_text.hpp"

namespace ebuse {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string u64(uint64_t v) {
  return std::to_string(v);
}

// -- JSON ---------------------------------------------------------------------

std::string quantiles_ms(const histogram& h) {
  return "{\"p50\":" + num(h.quantile(0.5) * 1e3) + ",\"p95\":" + num(h.quantile(0.95) * 1e3)
         + ",\"p99\":" + num(h.quantile(0.99) * 1e3) + ",\"count\":" + u64(h.count()) + "}";
}

std::string actor_json(const actor_metrics& a) {
  return "{\"handled\":" + u64(a.handled.load()) + ",\"mailbox\":"
         + std::to_string(a.mailbox.load()) + ",\"mailbox_peak\":"
         + std::to_string(a.mailbox_peak.load()) + ",\"handling_ms\":"
         + quantiles_ms(a.handling) + "}";
}

// The figures of one tenant, without braces: they follow the original's fields.
std::string tenant_fields(const tenant& t) {
  const auto& s = t.stats();
  const auto& g = s.group_events;
  std::string out;
  out += "\"writer\":{\"commits\":" + u64(s.commits.load())
         + ",\"events_written\":" + u64(s.events_written.load())
         + ",\"failed_commits\":" + u64(s.failed_commits.load())
         + ",\"max_group_events\":" + u64(s.max_group.load())
         + ",\"events_per_commit\":{\"p50\":" + num(g.quantile(0.5))
         + ",\"p95\":" + num(g.quantile(0.95)) + ",\"p99\":" + num(g.quantile(0.99))
         + ",\"sum\":" + num(g.sum()) + ",\"count\":" + u64(g.count())
         + "},\"commit_ms\":" + quantiles_ms(s.commit_latency) + "}";
  out += ",\"checkpoints\":{\"background\":" + u64(s.checkpoints.load())
         + ",\"background_frames\":" + u64(s.checkpointed_frames.load())
         + ",\"by_writer\":" + u64(s.writer_checkpoints.load())
         + ",\"failed\":" + u64(s.checkpoint_failures.load())
         + ",\"wal_frames\":" + num(static_cast<double>(s.wal_frames.load()))
         + ",\"background_ms\":" + quantiles_ms(s.checkpoint_latency) + "}";
  out += ",\"readers\":{\"pages\":" + u64(s.pages.load()) + ",\"rows\":" + u64(s.rows.load())
         + "}";
  out += ",\"streams\":{\"writes\":" + u64(s.stream_writes.load())
         + ",\"bytes_written\":" + u64(s.stream_bytes_written.load())
         + ",\"reads\":" + u64(s.stream_reads.load())
         + ",\"bytes_read\":" + u64(s.stream_bytes_read.load())
         + ",\"waiting\":" + std::to_string(s.stream_waiting.load()) + "}";
  out += ",\"actors\":{\"writer\":" + actor_json(s.writer)
         + ",\"readers\":" + actor_json(s.readers)
         + ",\"subscriptions\":" + actor_json(s.subscriptions) + "}";
  out += ",\"storage\":{\"db_bytes\":" + std::to_string(file_size(t.db_path()))
         + ",\"wal_bytes\":" + std::to_string(file_size(t.db_path() + "-wal")) + "}";
  return out;
}

std::string process_wide_json(const metrics_view& v) {
  const auto& r = *v.registry;
  std::string out = "\"registry\":{\"active\":" + std::to_string(r.active.load())
                    + ",\"configured\":" + std::to_string(r.configured.load())
                    + ",\"spawns\":" + u64(r.spawns.load())
                    + ",\"idle_stops\":" + u64(r.idle_stops.load())
                    + ",\"restarts\":" + u64(r.restarts.load())
                    + ",\"reloads\":" + u64(r.reloads.load())
                    + ",\"actor\":" + actor_json(r.actor) + "}";
  const auto& h = *v.http;
  out += ",\"http\":{\"routes\":{";
  for (std::size_t i = 0; i < route_count; ++i) {
    const auto& m = h.routes[i];
    if (i > 0)
      out += ',';
    out += std::string{"\""} + route_name(static_cast<route>(i)) + "\":{";
    for (int c = 0; c < 5; ++c)
      out += "\"" + std::to_string(c + 1) + "xx\":" + u64(m.by_class[c].load()) + ",";
    out += "\"latency_ms\":" + quantiles_ms(m.latency) + "}";
  }
  out += "},\"bytes_in\":" + u64(h.bytes_in.load()) + ",\"bytes_out\":" + u64(h.bytes_out.load())
         + ",\"connections\":{\"open\":" + std::to_string(v.connections.open)
         + ",\"idle\":" + std::to_string(v.connections.idle)
         + ",\"queued\":" + std::to_string(v.connections.queued)
         + ",\"read_timeouts\":" + u64(v.connections.read_cut)
         + ",\"idle_closed\":" + u64(v.connections.idle_closed)
         + ",\"shed\":" + u64(v.connections.shed) + "}}";
  out += ",\"rate_limiter\":";
  if (!v.limiter) {
    out += "null";
  } else {
    out += "{";
    const char* names[] = {"per_ip", "per_key"};
    for (int i = 0; i < 2; ++i) {
      auto table = v.limiter->table(static_cast<rate_scope>(i));
      out += std::string{"\""} + names[i] + "\":";
      out += table ? "{\"allowed\":" + u64(table->allowed.load()) + ",\"denied\":"
                       + u64(table->denied.load()) + ",\"tracked\":"
                       + std::to_string(table->size()) + "}"
                   : std::string{"null"};
      out += ",";
    }
    out += "\"actor\":" + actor_json(v.limiter->actor_stats()) + "}";
  }
  auto p = read_process(h);
  out += ",\"process\":{\"uptime_seconds\":" + num(p.uptime)
         + ",\"rss_bytes\":" + std::to_string(p.rss_bytes)
         + ",\"threads\":" + std::to_string(p.threads) + "}";
  return out;
}

} // namespace

std::string render_metrics_json(const metrics_view& v) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // The original's fields come first, in its encoder's (sorted) order.
  std::string out = "{";
  if (v.caller) {
    if (v.multi_tenant) {
      out += "\"tenant\":";
      json::append_quoted(v.caller->name(), out);
      out += ',';
    }
    out += "\"timestamp\":" + std::to_string(now) + ",\"total_events\":"
           + std::to_string(v.caller->stats().head.load()) + ",";
    out += tenant_fields(*v.caller) + ",";
  } else {
    out += "\"timestamp\":" + std::to_string(now) + ",\"tenants\":{";
    bool first = true;
    for (const auto& name : v.configured) {
      if (!first)
        out += ',';
      first = false;
      json::append_quoted(name, out);
      out += ":{";
      std::shared_ptr<tenant> running;
      for (const auto& t : v.tenants)
        if (t->name() == name)
          running = t;
      if (running)
        out += "\"running\":true,\"total_events\":"
               + std::to_string(running->stats().head.load()) + "," + tenant_fields(*running);
      else
        out += "\"running\":false";
      out += "}";
    }
    out += "},";
  }
  out += process_wide_json(v) + "}\n";
  return out;
}

} // namespace ebuse
