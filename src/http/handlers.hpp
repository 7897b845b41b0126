// Route handlers: parse, send one message to the right actor, await, render.
#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/send.hpp>
#include <httplib.h>

#include "actors/messages.hpp"
#include "actors/registry.hpp"
#include "actors/tenant.hpp"
#include "http/config.hpp"
#include "http/errors.hpp"
#include "http/metrics_render.hpp"
#include "http/stop_signal.hpp"

namespace ebuse {

/// What a handler needs besides the request: its tenant, the configuration, and the
/// body (read under MAX_BODY_BYTES, decompressed) for routes that take one.
struct request_context {
  std::shared_ptr<tenant> t;
  const server_config& cfg;
  std::string body;
};

/// Sends `cmd` (a command with a `reply` member) to `dest` and waits for the answer
/// at most REQUEST_TIMEOUT. The command holds the only sending half, so an actor that
/// dies without answering wakes the waiter at once.
template <class T, class Cmd>
caf::expected<T> ask(const caf::actor& dest, Cmd cmd, std::chrono::nanoseconds timeout) {
  auto [tx, rx] = make_reply<T>();
  cmd.reply = std::move(tx);
  caf::anon_send(dest, std::move(cmd));
  return await(rx, timeout);
}

/// Writes a JSON body with status 200 (or `status`).
void send_json(httplib::Response& res, std::string body, int status = 200);

/// Writes an error response; server-side errors are logged with their detail.
void send_error(const httplib::Request& req, httplib::Response& res, const caf::error& err);

/// POST /events
void handle_append(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// POST /events/batch
void handle_batch(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /events
void handle_load(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET /events/stream
void handle_stream(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// GET, POST, PUT /subscriptions/{id}/position
void handle_subscription(const httplib::Request& req, httplib::Response& res,
                         request_context& ctx);
/// GET /events/export: NDJSON, one event per line, page by page.
void handle_export(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// POST /events/import: the NDJSON of an export into an empty tenant, streamed.
void handle_import(const httplib::Request& req, httplib::Response& res, request_context& ctx,
                   const httplib::ContentReader& reader);
/// GET /admin/tenants/{name}/backup (admin key): a snapshot of the tenant's database.
void handle_backup(const httplib::Request& req, httplib::Response& res,
                   tenant_registry& registry, stop_signal& stopped);
/// GET /dashboard: the live dashboard page (needs no key; it asks for one).
void handle_dashboard(httplib::Response& res);
/// GET /health: every running tenant's store answers.
void handle_health(httplib::Response& res, tenant_registry& registry);
/// GET /position
void handle_position(const httplib::Request& req, httplib::Response& res, request_context& ctx);
/// Whether the client asks for the Prometheus text format (`Accept`).
bool wants_prometheus(const httplib::Request& req);
/// GET /metrics, /metrics/prometheus
void handle_metrics(const httplib::Request& req, httplib::Response& res,
                    const metrics_view& view);

} // namespace ebuse
