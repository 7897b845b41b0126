// Prometheus text exposition 0.0.4 of the same figures as the JSON /metrics.
#include <cstdio>
#include <functional>

#include "http/metrics_render.hpp"

namespace ebuse {

namespace {

class prom_writer {
public:
  std::string out;

  void family(const char* name, const char* type, const char* help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
    out.append(name).append(" ").append(type).append("\n");
  }

  void sample(const std::string& name, const std::string& labels, double value) {
    out.append(name);
    if (!labels.empty())
      out.append("{").append(labels).append("}");
    char buf[40];
    std::snprintf(buf, sizeof(buf), " %.17g\n", value);
    out.append(buf);
  }

  void hist(const std::string& name, const std::string& labels, const histogram& h) {
    std::string sep = labels.empty() ? "" : ",";
    uint64_t cumulative = 0;
    char le[40];
    for (std::size_t i = 0; i < h.size(); ++i) {
      cumulative += h.bucket(i);
      std::snprintf(le, sizeof(le), "%.17g", h.bound(i));
      sample(name + "_bucket", labels + sep + "le=\"" + le + "\"",
             static_cast<double>(cumulative));
    }
    cumulative += h.bucket(h.size());
    sample(name + "_bucket", labels + sep + "le=\"+Inf\"", static_cast<double>(cumulative));
    sample(name + "_sum", labels, h.sum());
    sample(name + "_count", labels, static_cast<double>(cumulative));
  }
};

std::string tenant_label(const tenant& t) {
  // Tenant names are [A-Za-z0-9_-]: nothing to escape.
  return "tenant=\"" + t.name() + "\"";
}

using tenant_fn = std::function<double(const tenant&)>;

void per_tenant(prom_writer& w, const metrics_view& v, const char* name, const char* type,
                const char* help, const tenant_fn& f) {
  w.family(name, type, help);
  for (const auto& t : v.tenants)
    w.sample(name, tenant_label(*t), f(*t));
}

void actor_families(prom_writer& w, const metrics_view& v) {
  struct row {
    std::string labels;
    const actor_metrics* m;
  };
  std::vector<row> rows;
  for (const auto& t : v.tenants) {
    const auto& s = t->stats();
    rows.push_back({tenant_label(*t) + ",actor=\"writer\"", &s.writer});
    rows.push_back({tenant_label(*t) + ",actor=\"readers\"", &s.readers});
    rows.push_back({tenant_label(*t) + ",actor=\"subscriptions\"", &s.subscriptions});
  }
  rows.push_back({"actor=\"registry\"", &v.registry->actor});
  if (v.limiter)
    rows.push_back({"actor=\"rate_limiter\"", &v.limiter->actor_stats()});
  w.family("ebuse_actor_messages_total", "counter", "Messages handled by the actor.");
  for (auto& r : rows)
    w.sample("ebuse_actor_messages_total", r.labels, static_cast<double>(r.m->handled.load()));
  w.family("ebuse_actor_mailbox", "gauge",
           "Messages waiting in the actor's mailbox when it last took one.");
  for (auto& r : rows)
    w.sample("ebuse_actor_mailbox", r.labels, static_cast<double>(r.m->mailbox.load()));
  w.family("ebuse_actor_mailbox_peak", "gauge", "Most messages ever seen waiting.");
  for (auto& r : rows)
    w.sample("ebuse_actor_mailbox_peak", r.labels, static_cast<double>(r.m->mailbox_peak.load()));
  w.family("ebuse_actor_handling_seconds", "histogram", "Time to handle one message.");
  for (auto& r : rows)
    w.hist("ebuse_actor_handling_seconds", r.labels, r.m->handling);
}

void stream_families(prom_writer& w, const metrics_view& v) {
  auto count = [](const std::atomic<uint64_t>& a) { return static_cast<double>(a.load()); };
  per_tenant(w, v, "ebuse_stream_writes_total", "counter",
             "Durable Streams creates, appends, closes and deletes committed.",
             [&](const tenant& t) { return count(t.stats().stream_writes); });
  per_tenant(w, v, "ebuse_stream_written_bytes_total", "counter",
             "Bytes appended to Durable Streams.",
             [&](const tenant& t) { return count(t.stats().stream_bytes_written); });
  per_tenant(w, v, "ebuse_stream_reads_total", "counter", "Durable Streams reads served.",
             [&](const tenant& t) { return count(t.stats().stream_reads); });
  per_tenant(w, v, "ebuse_stream_read_bytes_total", "counter",
             "Bytes returned by Durable Streams reads.",
             [&](const tenant& t) { return count(t.stats().stream_bytes_read); });
  per_tenant(w, v, "ebuse_stream_waiting", "gauge",
             "Durable Streams long-polls and SSE responses waiting for data.",
             [](const tenant& t) { return static_cast<double>(t.stats().stream_waiting.load()); });
}

} // namespace

std::string render_prometheus(const metrics_view& v) {
  prom_writer w;
  per_tenant(w, v, "ebuse_events_head", "gauge",
             "Committed head position, the number of events.",
             [](const tenant& t) { return static_cast<double>(t.stats().head.load()); });
  per_tenant(w, v, "ebuse_writer_commits_total", "counter", "Transactions committed.",
             [](const tenant& t) { return static_cast<double>(t.stats().commits.load()); });
  per_tenant(w, v, "ebuse_writer_events_total", "counter", "Events committed.",
             [](const tenant& t) { return static_cast<double>(t.stats().events_written.load()); });
  per_tenant(w, v, "ebuse_writer_failed_commits_total", "counter", "Transactions that failed.",
             [](const tenant& t) { return static_cast<double>(t.stats().failed_commits.load()); });
  w.family("ebuse_writer_group_events", "histogram", "Events per commit (group commit size).");
  for (const auto& t : v.tenants)
    w.hist("ebuse_writer_group_events", tenant_label(*t), t->stats().group_events);
  w.family("ebuse_writer_commit_seconds", "histogram", "Time to write and commit one group.");
  for (const auto& t : v.tenants)
    w.hist("ebuse_writer_commit_seconds", tenant_label(*t), t->stats().commit_latency);
  per_tenant(w, v, "ebuse_checkpoints_total", "counter",
             "WAL checkpoints run by the background checkpointer.",
             [](const tenant& t) { return static_cast<double>(t.stats().checkpoints.load()); });
  per_tenant(w, v, "ebuse_checkpoint_frames_total", "counter",
             "WAL frames copied into the database by background checkpoints.",
             [](const tenant& t) {
               return static_cast<double>(t.stats().checkpointed_frames.load());
             });
  per_tenant(w, v, "ebuse_writer_checkpoints_total", "counter",
             "WAL checkpoints run by the writer itself (the rest after a background pass, "
             "or the WAL far past its threshold).",
             [](const tenant& t) {
               return static_cast<double>(t.stats().writer_checkpoints.load());
             });
  per_tenant(w, v, "ebuse_checkpoint_failures_total", "counter",
             "WAL checkpoints that failed (background or the writer's own).",
             [](const tenant& t) {
               return static_cast<double>(t.stats().checkpoint_failures.load());
             });
  per_tenant(w, v, "ebuse_storage_wal_frames", "gauge", "WAL size in pages after the last commit.",
             [](const tenant& t) { return static_cast<double>(t.stats().wal_frames.load()); });
  w.family("ebuse_checkpoint_seconds", "histogram", "Time of one background checkpoint.");
  for (const auto& t : v.tenants)
    w.hist("ebuse_checkpoint_seconds", tenant_label(*t), t->stats().checkpoint_latency);
  per_tenant(w, v, "ebuse_reader_pages_total", "counter", "Pages of events read.",
             [](const tenant& t) { return static_cast<double>(t.stats().pages.load()); });
  per_tenant(w, v, "ebuse_reader_rows_total", "counter", "Events read.",
             [](const tenant& t) { return static_cast<double>(t.stats().rows.load()); });
  stream_families(w, v);
  per_tenant(w, v, "ebuse_storage_db_bytes", "gauge", "Size of the database file.",
             [](const tenant& t) { return static_cast<double>(file_size(t.db_path())); });
  per_tenant(w, v, "ebuse_storage_wal_bytes", "gauge", "Size of the write-ahead log.",
             [](const tenant& t) { return static_cast<double>(file_size(t.db_path() + "-wal")); });
  actor_families(w, v);

  const auto& r = *v.registry;
  auto scalar = [&](const char* name, const char* type, const char* help, double value) {
    w.family(name, type, help);
    w.sample(name, "", value);
  };
  scalar("ebuse_tenants_active", "gauge", "Tenants running now.",
         static_cast<double>(r.active.load()));
  scalar("ebuse_tenants_configured", "gauge", "Tenants configured.",
         static_cast<double>(r.configured.load()));
  scalar("ebuse_tenant_spawns_total", "counter", "Tenants started.",
         static_cast<double>(r.spawns.load()));
  scalar("ebuse_tenant_idle_stops_total", "counter", "Tenants stopped when idle or removed.",
         static_cast<double>(r.idle_stops.load()));
  scalar("ebuse_tenant_restarts_total", "counter", "Tenants dropped after their writer died.",
         static_cast<double>(r.restarts.load()));
  scalar("ebuse_config_reloads_total", "counter", "Tenant configurations applied.",
         static_cast<double>(r.reloads.load()));

  const auto& h = *v.http;
  w.family("ebuse_http_requests_total", "counter", "HTTP requests by route and status class.");
  for (std::size_t i = 0; i < route_count; ++i)
    for (int c = 0; c < 5; ++c)
      w.sample("ebuse_http_requests_total",
               std::string{"route=\""} + route_name(static_cast<route>(i)) + "\",class=\""
                 + std::to_string(c + 1) + "xx\"",
               static_cast<double>(h.routes[i].by_class[c].load()));
  w.family("ebuse_http_request_duration_seconds", "histogram",
           "Time from the request line to the end of the response.");
  for (std::size_t i = 0; i < route_count; ++i)
    w.hist("ebuse_http_request_duration_seconds",
           std::string{"route=\""} + route_name(static_cast<route>(i)) + "\"",
           h.routes[i].latency);
  scalar("ebuse_http_received_bytes_total", "counter", "Request body bytes received.",
         static_cast<double>(h.bytes_in.load()));
  scalar("ebuse_http_sent_bytes_total", "counter", "Response body bytes sent.",
         static_cast<double>(h.bytes_out.load()));
  const auto& c = v.connections;
  scalar("ebuse_http_open_connections", "gauge", "Connections a worker is serving.",
         static_cast<double>(c.open));
  scalar("ebuse_http_idle_connections", "gauge",
         "Of those, connections waiting for their next request.", static_cast<double>(c.idle));
  scalar("ebuse_http_queued_connections", "gauge", "Connections waiting for a free worker.",
         static_cast<double>(c.queued));
  w.family("ebuse_http_connections_closed_total", "counter",
           "Connections the server closed, by reason.");
  w.sample("ebuse_http_connections_closed_total", "reason=\"read_timeout\"",
           static_cast<double>(c.read_cut));
  w.sample("ebuse_http_connections_closed_total", "reason=\"idle\"",
           static_cast<double>(c.idle_closed));
  w.sample("ebuse_http_connections_closed_total", "reason=\"shed\"",
           static_cast<double>(c.shed));
  if (v.limiter) {
    const char* scopes[] = {"ip", "key"};
    w.family("ebuse_rate_limit_decisions_total", "counter",
             "Rate-limit decisions by scope and result.");
    for (int i = 0; i < 2; ++i)
      if (auto t = v.limiter->table(static_cast<rate_scope>(i))) {
        std::string scope = std::string{"scope=\""} + scopes[i] + "\"";
        w.sample("ebuse_rate_limit_decisions_total", scope + ",result=\"allowed\"",
                 static_cast<double>(t->allowed.load()));
        w.sample("ebuse_rate_limit_decisions_total", scope + ",result=\"denied\"",
                 static_cast<double>(t->denied.load()));
      }
    w.family("ebuse_rate_limit_tracked_clients", "gauge", "Buckets held, by scope.");
    for (int i = 0; i < 2; ++i)
      if (auto t = v.limiter->table(static_cast<rate_scope>(i)))
        w.sample("ebuse_rate_limit_tracked_clients",
                 std::string{"scope=\""} + scopes[i] + "\"", static_cast<double>(t->size()));
  }
  auto p = read_process(h);
  scalar("ebuse_process_uptime_seconds", "gauge", "Seconds since the server started.",
         p.uptime);
  scalar("ebuse_process_resident_memory_bytes", "gauge", "Resident memory.",
         static_cast<double>(p.rss_bytes));
  scalar("ebuse_process_threads", "gauge", "OS threads of the process.",
         static_cast<double>(p.threads));
  return w.out;
}

} // namespace ebuse
