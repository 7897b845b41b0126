// The two documents of /metrics, assembled from the figure lists of http/metric_list.
#include "http/metrics_render.hpp"

#include <chrono>

#include "core/json_text.hpp"
#include "http/metric_list.hpp"
#include "obs/render.hpp"

namespace ebuse {

namespace {

// Tenant names are [A-Za-z0-9_-]: nothing to escape.
std::string tenant_label(const tenant& t) {
  return "tenant=\"" + t.name() + "\"";
}

const char* const scope_names[] = {"per_ip", "per_key"};
const char* const scope_labels[] = {"scope=\"ip\"", "scope=\"key\""};

// -- JSON ---------------------------------------------------------------------------------

// The figures of one tenant, without braces: they follow the original's fields.
void append_tenant_json(std::string& out, const tenant& t) {
  const auto& s = t.stats();
  append_json_members(out, tenant_figures(), s);
  out += ",\"actors\":{\"writer\":" + json_object(actor_figures(), s.writer)
         + ",\"readers\":" + json_object(actor_figures(), s.readers)
         + ",\"subscriptions\":" + json_object(actor_figures(), s.subscriptions) + "},";
  append_json_members(out, storage_figures(), t);
}

std::string http_json(const metrics_view& v) {
  const auto& h = *v.http;
  std::string out = "\"http\":{\"routes\":{";
  for (std::size_t i = 0; i < h.labels().size(); ++i) {
    out += std::string{i > 0 ? ",\"" : "\""} + h.labels()[i] + "\":";
    out += json_object(route_figures(), h.route(i));
  }
  out += "},";
  append_json_members(out, http_figures(), h);
  return out + ",\"connections\":" + json_object(connection_figures(), v.connections) + "}";
}

std::string limiter_json(const rate_limiter* limiter) {
  if (!limiter)
    return "null";
  std::string out = "{";
  for (int i = 0; i < 2; ++i) {
    auto table = limiter->table(static_cast<rate_scope>(i));
    out += std::string{"\""} + scope_names[i] + "\":";
    out += table ? json_object(rate_table_figures(), *table) : std::string{"null"};
    out += ",";
  }
  return out + "\"actor\":" + json_object(actor_figures(), limiter->actor_stats()) + "}";
}

std::string process_wide_json(const metrics_view& v) {
  std::string out = "\"registry\":{";
  append_json_members(out, registry_figures(), *v.registry);
  out += ",\"actor\":" + json_object(actor_figures(), v.registry->actor) + "},";
  out += http_json(v);
  out += ",\"rate_limiter\":" + limiter_json(v.limiter);
  out += ",\"process\":" + json_object(process_figure_list(), read_process(*v.http));
  return out;
}

// Every configured tenant: its figures when it runs.
std::string tenants_json(const metrics_view& v) {
  std::string out = "\"tenants\":{";
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
    if (running) {
      out += "\"running\":true,";
      append_tenant_json(out, *running);
    } else {
      out += "\"running\":false";
    }
    out += "}";
  }
  return out + "},";
}

// -- Prometheus ---------------------------------------------------------------------------

void actor_families(prometheus_writer& w, const metrics_view& v) {
  std::vector<labelled<actor_metrics>> rows;
  for (const auto& t : v.tenants) {
    const auto& s = t->stats();
    rows.push_back({tenant_label(*t) + ",actor=\"writer\"", &s.writer});
    rows.push_back({tenant_label(*t) + ",actor=\"readers\"", &s.readers});
    rows.push_back({tenant_label(*t) + ",actor=\"subscriptions\"", &s.subscriptions});
  }
  rows.push_back({"actor=\"registry\"", &v.registry->actor});
  if (v.limiter)
    rows.push_back({"actor=\"rate_limiter\"", &v.limiter->actor_stats()});
  w.families(actor_figures(), rows);
}

void tenant_families(prometheus_writer& w, const metrics_view& v) {
  std::vector<labelled<tenant_stats>> stats;
  std::vector<labelled<tenant>> files;
  for (const auto& t : v.tenants) {
    stats.push_back({tenant_label(*t), &t->stats()});
    files.push_back({tenant_label(*t), t.get()});
  }
  w.families(tenant_figures(), stats);
  w.families(storage_figures(), files);
}

void http_families(prometheus_writer& w, const metrics_view& v) {
  const auto& h = *v.http;
  std::vector<labelled<route_metrics>> routes;
  for (std::size_t i = 0; i < h.labels().size(); ++i)
    routes.push_back({std::string{"route=\""} + h.labels()[i] + "\"", &h.route(i)});
  w.families(route_figures(), routes);
  w.families(http_figures(), h);
  w.families(connection_figures(), v.connections);
}

void limiter_families(prometheus_writer& w, const rate_limiter& limiter) {
  std::vector<labelled<rate_table>> tables;
  for (int i = 0; i < 2; ++i)
    if (auto t = limiter.table(static_cast<rate_scope>(i)))
      tables.push_back({scope_labels[i], t});
  w.families(rate_table_figures(), tables);
}

} // namespace

std::string render_metrics_json(const metrics_view& v) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // The original's fields come first, in its encoder's (sorted) order.
  std::string out = "{";
  if (v.caller && v.multi_tenant) {
    out += "\"tenant\":";
    json::append_quoted(v.caller->name(), out);
    out += ',';
  }
  out += "\"timestamp\":" + std::to_string(now) + ",";
  if (v.caller) {
    append_tenant_json(out, *v.caller);
    out += ',';
  } else {
    out += tenants_json(v);
  }
  return out + process_wide_json(v) + "}\n";
}

std::string render_prometheus(const metrics_view& v) {
  prometheus_writer w;
  tenant_families(w, v);
  actor_families(w, v);
  w.families(registry_figures(), *v.registry);
  http_families(w, v);
  if (v.limiter)
    limiter_families(w, *v.limiter);
  w.families(process_figure_list(), read_process(*v.http));
  return std::move(w.text());
}

} // namespace ebuse
