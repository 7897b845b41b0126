// Number formats of the two documents: JSON as the original writes it, Prometheus 0.0.4.
#include "obs/render.hpp"

#include <cinttypes>
#include <cstdio>

namespace ebuse {

namespace {

std::string real(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string integer(double v) {
  return std::to_string(static_cast<int64_t>(v));
}

const char* type_name(metric_type t) {
  switch (t) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

} // namespace

void append_json_value(std::string& out, json_form form, double value) {
  out += form == json_form::real ? real(value) : integer(value);
}

void append_json_histogram(std::string& out, json_form form, const histogram& h) {
  double scale = form == json_form::quantiles_ms ? 1e3 : 1;
  out += "{\"p50\":" + real(h.quantile(0.5) * scale) + ",\"p95\":" + real(h.quantile(0.95) * scale)
         + ",\"p99\":" + real(h.quantile(0.99) * scale);
  if (form == json_form::distribution)
    out += ",\"sum\":" + real(h.sum());
  out += ",\"count\":" + std::to_string(h.count()) + "}";
}

void prometheus_writer::family(const char* name, metric_type type, const char* help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out_.append(name).append(" ").append(type_name(type)).append("\n");
}

void prometheus_writer::sample(const std::string& name, const std::string& labels,
                               double value) {
  out_.append(name);
  if (!labels.empty())
    out_.append("{").append(labels).append("}");
  char buf[40];
  std::snprintf(buf, sizeof(buf), " %.17g\n", value);
  out_.append(buf);
}

void prometheus_writer::hist(const std::string& name, const std::string& labels,
                             const histogram& h) {
  std::string sep = labels.empty() ? "" : ",";
  uint64_t cumulative = 0;
  char le[40];
  for (std::size_t i = 0; i < h.size(); ++i) {
    cumulative += h.bucket(i);
    std::snprintf(le, sizeof(le), "%.17g", h.bound(i));
    sample(name + "_bucket", labels + sep + "le=\"" + le + "\"", static_cast<double>(cumulative));
  }
  cumulative += h.bucket(h.size());
  sample(name + "_bucket", labels + sep + "le=\"+Inf\"", static_cast<double>(cumulative));
  sample(name + "_sum", labels, h.sum());
  sample(name + "_count", labels, static_cast<double>(cumulative));
}

} // namespace ebuse
