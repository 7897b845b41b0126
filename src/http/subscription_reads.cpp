// GET /subscriptions (the consumers, with their lag) and GET /subscriptions/{id}/events.
#include <cstdint>

#include "core/decimal.hpp"
#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "http/codec.hpp"
#include "http/gzip.hpp"
#include "http/handlers.hpp"
#include "http/live.hpp"

namespace ebuse {

namespace {

constexpr int64_t default_page = 100;
constexpr int64_t max_page = 1000;

// `limit`: 1..1000, `default_page` when absent.
caf::expected<int64_t> page_limit(const httplib::Request& req) {
  if (!req.has_param("limit"))
    return default_page;
  int64_t v;
  if (!parse_int64(req.get_param_value("limit"), v) || v < 1 || v > max_page)
    return make_error(errc::invalid_parameter,
                      "invalid 'limit' parameter: expected an integer from 1 to 1000");
  return v;
}

std::string render_subscriptions(const std::vector<subscription_entry>& rows, int64_t head) {
  std::string out = "{\"subscriptions\":[";
  char text[ts::max_rfc3339_text];
  for (const auto& r : rows) {
    if (out.back() != '[')
      out.push_back(',');
    out += "{\"subscription_id\":";
    json::append_quoted(r.id, out);
    out += ",\"position\":" + std::to_string(r.position)
           + ",\"lag\":" + std::to_string(head > r.position ? head - r.position : 0)
           + ",\"updated_at\":";
    if (r.updated_ms > 0) {
      out.push_back('"');
      out.append(text, ts::write_rfc3339(text, ts::utc_of_unix_ms(r.updated_ms)));
      out.push_back('"');
    } else {
      out += "null"; // saved before the file recorded the time
    }
    out.push_back('}');
  }
  out += "],\"head\":" + std::to_string(head) + "}\n";
  return out;
}

} // namespace

void handle_subscription_list(const httplib::Request& req, httplib::Response& res,
                              request_context& ctx) {
  auto limit = page_limit(req);
  if (!limit)
    return send_error(req, res, limit.error());
  auto rows = ask(ctx.t->reader(), sub_page_cmd{req.get_param_value("after"), *limit, {}},
                  ctx.timeout());
  if (!rows)
    return send_error(req, res, rows.error());
  auto head = ctx.t->stats().head.load(std::memory_order_acquire);
  send_json(res, render_subscriptions(*rows, head));
}

void handle_subscription_events(const httplib::Request& req, httplib::Response& res,
                                request_context& ctx) {
  auto id = ctx.entry->id_of(req.path);
  if (auto err = check_subscription_id(id))
    return send_error(req, res, err);
  auto limit = page_limit(req);
  if (!limit)
    return send_error(req, res, limit.error());
  auto wait = parse_wait_param(req, ctx.server.opts.live);
  if (!wait)
    return send_error(req, res, wait.error());
  auto types = parse_type_param(req);
  if (!types)
    return send_error(req, res, types.error());
  auto pos = ask(ctx.t->subscriptions(), sub_get_cmd{std::string{id}, {}}, ctx.timeout());
  if (!pos)
    return send_error(req, res, pos.error());
  // The consumer saves its position after processing: reading never moves it.
  if (*pos == INT64_MAX) { // nothing can follow the last position there is
    set_head_header(res, *ctx.t, 0);
    return send_event_json(res, "[]\n");
  }
  send_event_page(req, res, ctx, *pos + 1, -1, *limit, *wait, *types);
}

} // namespace ebuse
