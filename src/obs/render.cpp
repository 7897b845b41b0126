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

// Whole numbers of the int64 or uint64 range exactly; the conversions are checked first
// (a value out of range would be undefined behaviour).
bool exact_integer(figure_value v, std::string& out) {
  if (v != v)
    return false;
  constexpr figure_value two63 = 9223372036854775808.0L;
  if (v >= -two63 && v < two63 && v == static_cast<figure_value>(static_cast<int64_t>(v))) {
    out = std::to_string(static_cast<int64_t>(v));
    return true;
  }
  if (v >= 0 && v < 2 * two63 && v == static_cast<figure_value>(static_cast<uint64_t>(v))) {
    out = std::to_string(static_cast<uint64_t>(v));
    return true;
  }
  return false;
}

std::string integer(figure_value v) {
  std::string out;
  if (exact_integer(v, out))
    return out;
  return real(static_cast<double>(v));
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

void append_json_value(std::string& out, json_form form, figure_value value) {
  out += form == json_form::real ? real(static_cast<double>(value)) : integer(value);
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
                               figure_value value) {
  out_.append(name);
  if (!labels.empty())
    out_.append("{").append(labels).append("}");
  std::string whole;
  if (exact_integer(value, whole)) {
    out_.append(" ").append(whole).append("\n");
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof(buf), " %.17g\n", static_cast<double>(value));
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
    sample(name + "_bucket", labels + sep + "le=\"" + le + "\"",
           static_cast<figure_value>(cumulative));
  }
  cumulative += h.bucket(h.size());
  sample(name + "_bucket", labels + sep + "le=\"+Inf\"", static_cast<figure_value>(cumulative));
  sample(name + "_sum", labels, h.sum());
  sample(name + "_count", labels, static_cast<figure_value>(cumulative));
}

} // namespace ebuse
