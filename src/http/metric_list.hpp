// Every figure /metrics shows, once: JSON key, Prometheus family, help, type, value.
#pragma once

#include "actors/rate_limiter.hpp"
#include "actors/registry.hpp"
#include "actors/tenant.hpp"
#include "obs/figure.hpp"
#include "obs/http_metrics.hpp"

namespace ebuse {

/// A tenant's figures from its actors (per tenant in Prometheus, `tenant="..."`).
const figure_list<tenant_stats>& tenant_figures();

/// A tenant's file sizes.
const figure_list<tenant>& storage_figures();

/// The figures of one actor (or a pool), for every actor.
const figure_list<actor_metrics>& actor_figures();

/// The tenant registry's figures.
const figure_list<registry_stats>& registry_figures();

/// The figures of one route label (`route="..."`).
const figure_list<route_metrics>& route_figures();

/// The HTTP figures besides the routes'.
const figure_list<http_metrics>& http_figures();

/// The connections' figures.
const figure_list<connection_counts>& connection_figures();

/// The figures of one rate-limit table (`scope="ip"` or `"key"`).
const figure_list<rate_table>& rate_table_figures();

/// The process's figures.
const figure_list<process_figures>& process_figure_list();

} // namespace ebuse
