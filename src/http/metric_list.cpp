// The figures of /metrics: one description each, in the order both documents show them.
#include "http/metric_list.hpp"

#include "storage/reader_pool.hpp"
#include "storage/worker_pool.hpp"

namespace ebuse {

namespace {

using ts = tenant_stats;

figure_value db_bytes(const tenant& t) {
  return static_cast<figure_value>(file_size(t.db_path()));
}

figure_value wal_bytes(const tenant& t) {
  return static_cast<figure_value>(file_size(t.db_path() + "-wal"));
}

template <std::size_t Class>
figure_value requests_of_class(const route_metrics& m) {
  return static_cast<figure_value>(m.by_class[Class].load(std::memory_order_relaxed));
}

const histogram& route_latency(const route_metrics& m) {
  return m.latency;
}

figure_value tracked(const rate_table& t) {
  return static_cast<figure_value>(t.size());
}

figure_value storage_queued(const registry_stats& r) {
  return r.storage ? static_cast<figure_value>(r.storage->queued()) : 0;
}

figure_value storage_busy(const registry_stats& r) {
  return r.storage ? static_cast<figure_value>(r.storage->busy()) : 0;
}

template <auto Get>
figure_value reader_figure(const registry_stats& r) {
  return r.reader_connections ? static_cast<figure_value>((r.reader_connections.get()->*Get)())
                              : 0;
}

constexpr const char* requests_help = "HTTP requests by route and status class.";
constexpr const char* closed_help = "Connections the server closed, by reason.";
constexpr const char* decisions_help = "Rate-limit decisions by scope and result.";

} // namespace

const figure_list<tenant_stats>& tenant_figures() {
  static const figure_list<tenant_stats> list = {
    gauge("total_events", "ebuse_events_head", "Committed head position, the number of events.",
          field<&ts::head>),
    counter("commits", "ebuse_writer_commits_total", "Transactions committed.",
            field<&ts::commits>).in("writer"),
    counter("events_written", "ebuse_writer_events_total", "Events committed.",
            field<&ts::events_written>).in("writer"),
    counter("failed_commits", "ebuse_writer_failed_commits_total", "Transactions that failed.",
            field<&ts::failed_commits>).in("writer"),
    gauge("max_group_events", nullptr, nullptr, field<&ts::max_group>).in("writer"),
    gauge("queued_events", "ebuse_writer_queued_events",
          "Appended events admitted to the writer's queue and not yet answered.",
          field<&ts::queued_events>).in("writer"),
    gauge("queued_bytes", "ebuse_writer_queued_bytes", "Their size in bytes.",
          field<&ts::queued_bytes>).in("writer"),
    counter("overload_refusals", "ebuse_writer_overload_refusals_total",
            "Appends refused with 503 overloaded: the writer's queue was full.",
            field<&ts::overload_refusals>).in("writer"),
    counter("dropped_abandoned", "ebuse_writer_dropped_abandoned_total",
            "Appends dropped unwritten because their waiter had timed out.",
            field<&ts::dropped_abandoned>).in("writer"),
    distribution("events_per_commit", "ebuse_writer_group_events",
                 "Events per commit (group commit size).", hist_field<&ts::group_events>)
      .in("writer"),
    latency("commit_ms", "ebuse_writer_commit_seconds", "Time to write and commit one group.",
            hist_field<&ts::commit_latency>).in("writer"),
    counter("background", "ebuse_checkpoints_total",
            "WAL checkpoints run by the background checkpointer.", field<&ts::checkpoints>)
      .in("checkpoints"),
    counter("background_frames", "ebuse_checkpoint_frames_total",
            "WAL frames copied into the database by background checkpoints.",
            field<&ts::checkpointed_frames>).in("checkpoints"),
    counter("by_writer", "ebuse_writer_checkpoints_total",
            "WAL checkpoints run by the writer itself (the rest after a background pass, or "
            "the WAL far past its threshold).",
            field<&ts::writer_checkpoints>).in("checkpoints"),
    counter("failed", "ebuse_checkpoint_failures_total",
            "WAL checkpoints that failed (background or the writer's own).",
            field<&ts::checkpoint_failures>).in("checkpoints"),
    real_gauge("wal_frames", "ebuse_storage_wal_frames", "WAL size in pages after the last commit.",
               field<&ts::wal_frames>).in("checkpoints"),
    latency("background_ms", "ebuse_checkpoint_seconds", "Time of one background checkpoint.",
            hist_field<&ts::checkpoint_latency>).in("checkpoints"),
    counter("pages", "ebuse_reader_pages_total", "Pages of events read.", field<&ts::pages>)
      .in("readers"),
    counter("rows", "ebuse_reader_rows_total", "Events read.", field<&ts::rows>).in("readers"),
    gauge("waiting", "ebuse_events_waiting",
          "Long-polls and followers of the event log waiting for a commit now.",
          field<&ts::events_waiting>).in("readers"),
    counter("writes", "ebuse_stream_writes_total",
            "Durable Streams creates, appends, closes and deletes committed.",
            field<&ts::stream_writes>).in("streams"),
    counter("bytes_written", "ebuse_stream_written_bytes_total",
            "Bytes appended to Durable Streams.", field<&ts::stream_bytes_written>)
      .in("streams"),
    counter("reads", "ebuse_stream_reads_total", "Durable Streams reads served.",
            field<&ts::stream_reads>).in("streams"),
    counter("bytes_read", "ebuse_stream_read_bytes_total",
            "Bytes returned by Durable Streams reads.", field<&ts::stream_bytes_read>)
      .in("streams"),
    gauge("waiting", "ebuse_stream_waiting",
          "Durable Streams long-polls and SSE responses waiting for data.",
          field<&ts::stream_waiting>).in("streams"),
  };
  return list;
}

const figure_list<tenant>& storage_figures() {
  static const figure_list<tenant> list = {
    gauge("db_bytes", "ebuse_storage_db_bytes", "Size of the database file.", db_bytes)
      .in("storage"),
    gauge("wal_bytes", "ebuse_storage_wal_bytes", "Size of the write-ahead log.", wal_bytes)
      .in("storage"),
  };
  return list;
}

const figure_list<actor_metrics>& actor_figures() {
  using am = actor_metrics;
  static const figure_list<actor_metrics> list = {
    counter("handled", "ebuse_actor_messages_total", "Messages handled by the actor.",
            field<&am::handled>),
    gauge("mailbox", "ebuse_actor_mailbox",
          "Messages waiting in the actor's mailbox when it last took one.", field<&am::mailbox>),
    gauge("mailbox_peak", "ebuse_actor_mailbox_peak", "Most messages ever seen waiting.",
          field<&am::mailbox_peak>),
    latency("handling_ms", "ebuse_actor_handling_seconds", "Time to handle one message.",
            hist_field<&am::handling>),
  };
  return list;
}

const figure_list<registry_stats>& registry_figures() {
  using rs = registry_stats;
  static const figure_list<registry_stats> list = {
    gauge("active", "ebuse_tenants_active", "Tenants running now.", field<&rs::active>),
    gauge("configured", "ebuse_tenants_configured", "Tenants configured.",
          field<&rs::configured>),
    counter("spawns", "ebuse_tenant_spawns_total", "Tenants started.", field<&rs::spawns>),
    gauge("open", "ebuse_tenants_open",
          "Tenants holding their files: running, starting, or still closing them.",
          field<&rs::open>),
    gauge("max_open", "ebuse_tenants_open_budget",
          "The open-tenant budget (MAX_OPEN_TENANTS; 0: none).", field<&rs::max_open>),
    counter("budget_stops", "ebuse_tenant_budget_stops_total",
            "Idle tenants stopped to make room under the open-tenant budget.",
            field<&rs::budget_stops>),
    counter("budget_waits", "ebuse_tenant_budget_waits_total",
            "Requests that waited for a place under the open-tenant budget.",
            field<&rs::budget_waits>),
    counter("budget_refusals", "ebuse_tenant_budget_refusals_total",
            "Requests refused with 503 overloaded: no place under the budget in time.",
            field<&rs::budget_refusals>),
    counter("idle_stops", "ebuse_tenant_idle_stops_total",
            "Tenants stopped when idle or removed.", field<&rs::idle_stops>),
    counter("restarts", "ebuse_tenant_restarts_total",
            "Tenants dropped after their writer died.", field<&rs::restarts>),
    counter("reloads", "ebuse_config_reloads_total", "Tenant configurations applied.",
            field<&rs::reloads>),
    gauge("storage_queued", "ebuse_storage_jobs_queued", "Storage jobs waiting for a worker.",
          storage_queued),
    gauge("storage_busy", "ebuse_storage_workers_busy", "Storage workers running a job.",
          storage_busy),
    gauge("reader_connections", "ebuse_reader_connections_open",
          "Read-only connections open, idle or in use.",
          reader_figure<&reader_pool::open>),
    counter("reader_hits", "ebuse_reader_connection_hits_total",
            "Reads served by an idle pooled connection.",
            reader_figure<&reader_pool::hits>),
    counter("reader_opens", "ebuse_reader_connection_opens_total", "Read-only connections opened.",
            reader_figure<&reader_pool::opens>),
    counter("reader_evictions", "ebuse_reader_connection_evictions_total",
            "Idle read-only connections closed beyond READER_CONNECTIONS.",
            reader_figure<&reader_pool::evictions>),
  };
  return list;
}

const figure_list<route_metrics>& route_figures() {
  static const figure_list<route_metrics> list = {
    counter("1xx", "ebuse_http_requests_total", requests_help, requests_of_class<0>)
      .labelled("class=\"1xx\""),
    counter("2xx", "ebuse_http_requests_total", requests_help, requests_of_class<1>)
      .labelled("class=\"2xx\""),
    counter("3xx", "ebuse_http_requests_total", requests_help, requests_of_class<2>)
      .labelled("class=\"3xx\""),
    counter("4xx", "ebuse_http_requests_total", requests_help, requests_of_class<3>)
      .labelled("class=\"4xx\""),
    counter("5xx", "ebuse_http_requests_total", requests_help, requests_of_class<4>)
      .labelled("class=\"5xx\""),
    latency("latency_ms", "ebuse_http_request_duration_seconds",
            "Time from the request line to the end of the response.", route_latency),
  };
  return list;
}

const figure_list<http_metrics>& http_figures() {
  static const figure_list<http_metrics> list = {
    counter("bytes_in", "ebuse_http_received_bytes_total", "Request body bytes received.",
            field<&http_metrics::bytes_in>),
    counter("bytes_out", "ebuse_http_sent_bytes_total", "Response body bytes sent.",
            field<&http_metrics::bytes_out>),
  };
  return list;
}

const figure_list<connection_counts>& connection_figures() {
  using cc = connection_counts;
  static const figure_list<connection_counts> list = {
    gauge("open", "ebuse_http_open_connections", "Open connections.", field<&cc::open>),
    gauge("reading", "ebuse_http_reading_connections",
          "Of those, waiting for (the rest of) a request, in the event loop.",
          field<&cc::reading>),
    gauge("idle", "ebuse_http_idle_connections",
          "Of those, keep-alive between requests, in the event loop.", field<&cc::idle>),
    gauge("in_worker", "ebuse_http_worker_connections",
          "Of those, with a worker (running, writing or streaming) or queued for one.",
          field<&cc::in_worker>),
    gauge("parked", "ebuse_http_parked_connections",
          "Of those, a long-poll waiting in the event loop without a thread.",
          field<&cc::parked>),
    gauge("following", "ebuse_http_following_connections",
          "Of those, a follower (or a metrics stream) between its writes, in the event loop "
          "without a thread.",
          field<&cc::following>),
    gauge("queued", "ebuse_http_queued_connections", "Whole requests waiting for a free worker.",
          field<&cc::queued>),
    gauge("workers_busy", "ebuse_http_busy_workers", "HTTP workers running a request.",
          field<&cc::workers_busy>),
    counter("read_timeouts", "ebuse_http_connections_closed_total", closed_help,
            field<&cc::read_cut>).labelled("reason=\"read_timeout\""),
    counter("idle_closed", "ebuse_http_connections_closed_total", closed_help,
            field<&cc::idle_closed>).labelled("reason=\"idle\""),
    counter("write_timeouts", "ebuse_http_connections_closed_total", closed_help,
            field<&cc::write_cut>).labelled("reason=\"write_timeout\""),
    counter("accept_errors", "ebuse_http_accept_errors_total",
            "Failed accept() calls retried (out of descriptors or buffers, aborted).",
            field<&cc::accept_errors>),
    counter("per_ip_refused", "ebuse_http_connections_refused_total",
            "Connections answered 429 and closed at accept: MAX_CONNS_PER_IP reached.",
            field<&cc::per_ip_refused>),
    counter("shared_answers", "ebuse_http_shared_answers_total",
            "Woken long-polls answered with the bytes rendered for an identical request.",
            field<&cc::shared_answers>),
  };
  return list;
}

const figure_list<rate_table>& rate_table_figures() {
  static const figure_list<rate_table> list = {
    counter("allowed", "ebuse_rate_limit_decisions_total", decisions_help,
            field<&rate_table::allowed>).labelled("result=\"allowed\""),
    counter("denied", "ebuse_rate_limit_decisions_total", decisions_help,
            field<&rate_table::denied>).labelled("result=\"denied\""),
    gauge("tracked", "ebuse_rate_limit_tracked_clients", "Buckets held, by scope.", tracked),
  };
  return list;
}

const figure_list<process_figures>& process_figure_list() {
  using pf = process_figures;
  static const figure_list<process_figures> list = {
    real_gauge("uptime_seconds", "ebuse_process_uptime_seconds",
               "Seconds since the server started.", field<&pf::uptime>),
    gauge("rss_bytes", "ebuse_process_resident_memory_bytes", "Resident memory.",
          field<&pf::rss_bytes>),
    gauge("threads", "ebuse_process_threads", "OS threads of the process.",
          field<&pf::threads>),
  };
  return list;
}

} // namespace ebuse
