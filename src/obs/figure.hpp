// One description per figure (name, help, type, labels, value), read by both the JSON
// and the Prometheus renderer: adding a figure to /metrics is adding one description.
#pragma once

#include <atomic>
#include <string>
#include <type_traits>
#include <vector>

#include "obs/histogram.hpp"

namespace ebuse {

/// The value of a counter or gauge. Its 64-bit mantissa holds every int64 and uint64
/// exactly (a head position near INT64_MAX, a byte counter), where a double would round
/// them above 2^53.
using figure_value = long double;

/// The Prometheus type of a figure.
enum class metric_type : uint8_t { counter, gauge, histogram };

/// How the JSON document writes a figure.
enum class json_form : uint8_t {
  integer,      ///< a whole number
  real,         ///< a number (printf `%.9g`)
  quantiles_ms, ///< `{"p50","p95","p99","count"}` of a histogram of seconds, in milliseconds
  distribution, ///< `{"p50","p95","p99","sum","count"}` of a histogram of plain values
};

/// A figure of a source of type `S` (a tenant's stats, a route's figures, ...).
template <class S>
struct figure {
  const char* json_key; ///< its key in the JSON object; nullptr: Prometheus only
  const char* family;   ///< its Prometheus family; nullptr: JSON only
  const char* help;     ///< the family's HELP text
  metric_type type;
  json_form form;
  figure_value (*value)(const S&) = nullptr;      ///< for counters and gauges
  const histogram& (*dist)(const S&) = nullptr;   ///< for histograms
  const char* group = nullptr; ///< the JSON object it sits in within its source ("writer")
  const char* label = nullptr; ///< a label of its own sample (`reason="idle"`)

  /// This figure inside the JSON object `name` of its source.
  figure in(const char* name) const {
    figure f = *this;
    f.group = name;
    return f;
  }

  /// This figure's sample with the label `l` (several figures then share one family).
  figure labelled(const char* l) const {
    figure f = *this;
    f.label = l;
    return f;
  }
};

/// A list of the figures of one kind of source, in the order both documents show them.
template <class S>
using figure_list = std::vector<figure<S>>;

namespace detail {

inline figure_value as_value(const std::atomic<uint64_t>& v) {
  return static_cast<figure_value>(v.load(std::memory_order_relaxed));
}
inline figure_value as_value(const std::atomic<int64_t>& v) {
  return static_cast<figure_value>(v.load(std::memory_order_relaxed));
}
template <class T, class = std::enable_if_t<std::is_arithmetic_v<T>>>
figure_value as_value(T v) {
  return static_cast<figure_value>(v);
}

template <class M>
struct member_of;
template <class S, class T>
struct member_of<T S::*> {
  using source = S;
};

} // namespace detail

/// The value of the data member `M` (a number or an atomic one) of its source.
template <auto M>
figure_value field(const typename detail::member_of<decltype(M)>::source& s) {
  return detail::as_value(s.*M);
}

/// The histogram member `M` of its source.
template <auto M>
const histogram& hist_field(const typename detail::member_of<decltype(M)>::source& s) {
  return s.*M;
}

/// A counter or gauge of type `t`, written in JSON as `form`.
template <class S>
figure<S> scalar_figure(metric_type t, json_form form, const char* json_key,
                        const char* family, const char* help,
                        figure_value (*value)(const S&)) {
  return {json_key, family, help, t, form, value};
}

/// A histogram, written in JSON as `form`.
template <class S>
figure<S> histogram_figure(json_form form, const char* json_key, const char* family,
                           const char* help, const histogram& (*dist)(const S&)) {
  return {json_key, family, help, metric_type::histogram, form, nullptr, dist};
}

/// A counter, written as an integer in JSON.
template <class S>
figure<S> counter(const char* key, const char* family, const char* help,
                  figure_value (*v)(const S&)) {
  return scalar_figure(metric_type::counter, json_form::integer, key, family, help, v);
}

/// A gauge, written as an integer in JSON.
template <class S>
figure<S> gauge(const char* key, const char* family, const char* help,
                figure_value (*v)(const S&)) {
  return scalar_figure(metric_type::gauge, json_form::integer, key, family, help, v);
}

/// A gauge, written as a real number in JSON.
template <class S>
figure<S> real_gauge(const char* key, const char* family, const char* help,
                     figure_value (*v)(const S&)) {
  return scalar_figure(metric_type::gauge, json_form::real, key, family, help, v);
}

/// A histogram of seconds, shown in JSON as quantiles in milliseconds.
template <class S>
figure<S> latency(const char* key, const char* family, const char* help,
                  const histogram& (*d)(const S&)) {
  return histogram_figure(json_form::quantiles_ms, key, family, help, d);
}

/// A histogram of plain values, shown in JSON as quantiles, sum and count.
template <class S>
figure<S> distribution(const char* key, const char* family, const char* help,
                       const histogram& (*d)(const S&)) {
  return histogram_figure(json_form::distribution, key, family, help, d);
}

} // namespace ebuse
