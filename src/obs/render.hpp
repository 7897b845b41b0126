// The JSON and Prometheus renderers of figure lists (obs/figure.hpp).
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "obs/figure.hpp"

namespace ebuse {

/// Appends a figure's value as its JSON form writes it.
void append_json_value(std::string& out, json_form form, figure_value value);

/// Appends a histogram as its JSON form writes it.
void append_json_histogram(std::string& out, json_form form, const histogram& h);

/// Appends the JSON members of `figs` for `s` (no braces around them: the caller's
/// object continues): `"key":value,...`, figures of one group nested as `"group":{...}`.
template <class S>
void append_json_members(std::string& out, const figure_list<S>& figs, const S& s) {
  const char* group = nullptr;
  bool first = true;          // of the members at this level
  bool first_in_group = true; // of the members of the open group
  for (const auto& f : figs) {
    if (!f.json_key)
      continue;
    bool same = f.group == group || (f.group && group && std::strcmp(f.group, group) == 0);
    if (!same) {
      if (group)
        out += '}';
      group = f.group;
      if (group) {
        out += first ? "\"" : ",\"";
        out.append(group).append("\":{");
        first = false;
        first_in_group = true;
      }
    }
    bool& is_first = group ? first_in_group : first;
    out += is_first ? "\"" : ",\"";
    is_first = false;
    out.append(f.json_key).append("\":");
    if (f.type == metric_type::histogram)
      append_json_histogram(out, f.form, f.dist(s));
    else
      append_json_value(out, f.form, f.value(s));
  }
  if (group)
    out += '}';
}

/// `{` members `}` of one source.
template <class S>
std::string json_object(const figure_list<S>& figs, const S& s) {
  std::string out = "{";
  append_json_members(out, figs, s);
  out += '}';
  return out;
}

/// A source of figures with its Prometheus labels (`tenant="a"`; empty: none).
template <class S>
struct labelled {
  std::string labels;
  const S* source;
};

/// Writes the Prometheus text exposition format 0.0.4.
class prometheus_writer {
public:
  /// `# HELP` and `# TYPE` of a family.
  void family(const char* name, metric_type type, const char* help);
  /// One sample.
  void sample(const std::string& name, const std::string& labels, figure_value value);
  /// The `_bucket`, `_sum` and `_count` samples of a histogram.
  void hist(const std::string& name, const std::string& labels, const histogram& h);

  /// Every family of `figs` (figures in a row with the same family are one), each with a
  /// sample of each source, in the order of the sources.
  template <class S>
  void families(const figure_list<S>& figs, const std::vector<labelled<S>>& sources) {
    for (std::size_t i = 0; i < figs.size();) {
      std::size_t end = i + 1;
      if (figs[i].family) {
        while (end < figs.size() && figs[end].family
               && std::strcmp(figs[end].family, figs[i].family) == 0)
          ++end;
        family(figs[i].family, figs[i].type, figs[i].help);
        for (const auto& src : sources)
          for (std::size_t k = i; k < end; ++k)
            put(figs[k], src.labels, *src.source);
      }
      i = end;
    }
  }

  /// The families of one source without labels.
  template <class S>
  void families(const figure_list<S>& figs, const S& s) {
    families(figs, std::vector<labelled<S>>{{std::string{}, &s}});
  }

  /// The text written so far.
  std::string& text() noexcept {
    return out_;
  }

private:
  template <class S>
  void put(const figure<S>& f, const std::string& source_labels, const S& s) {
    std::string labels = source_labels;
    if (f.label)
      labels.append(labels.empty() ? "" : ",").append(f.label);
    if (f.type == metric_type::histogram)
      hist(f.family, labels, f.dist(s));
    else
      sample(f.family, labels, f.value(s));
  }

  std::string out_;
};

} // namespace ebuse
