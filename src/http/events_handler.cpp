// POST /events and POST /events/batch: validate, hand to the tenant writer, echo.
#include "http/append_checks.hpp"
#include "http/codec.hpp"
#include "http/handlers.hpp"

namespace ebuse {

void handle_append(const httplib::Request& req, httplib::Response& res,
                   request_context& ctx) {
  append_checks checks;
  if (!parse_append_checks(req, ctx.body, res, checks))
    return;
  auto ev = parse_event(ctx.body);
  // Parsed: the body's memory goes before the reply takes its own (a large event would
  // otherwise be held three times).
  std::string{}.swap(ctx.body);
  if (!ev)
    return send_error(req, res, ev.error());
  // The reply is rendered now and the event itself handed to the writer.
  saved_event_echo echo{*ev};
  std::vector<new_event> events;
  events.push_back(std::move(*ev));
  if (checks.any()) {
    // Stored with a key: the positions and the echo's timestamp (the writer may call this
    // again, a group retried op by op).
    append_render store = [ts = std::string{echo.timestamp()}](const append_result& r) {
      return compact_response(r, ts);
    };
    auto out = ctx.t->append(checked_request(std::move(events), std::move(checks), store),
                             ctx.timeout());
    append_render render = [&echo](const append_result& r) { return echo.take(r.first); };
    append_replay replay = [&echo](const append_result& r, std::string_view ts) {
      if (!ts.empty())
        echo.set_timestamp(ts);
      return echo.take(r.first);
    };
    return send_outcome(req, res, out, render, replay);
  }
  auto res_pos = ctx.t->append(std::move(events), ctx.timeout());
  if (!res_pos)
    return send_error(req, res, res_pos.error());
  send_json(res, echo.take(res_pos->first));
}

void handle_batch(const httplib::Request& req, httplib::Response& res,
                  request_context& ctx) {
  append_checks checks;
  if (!parse_append_checks(req, ctx.body, res, checks))
    return;
  auto events = parse_batch(ctx.body);
  std::string{}.swap(ctx.body);
  if (!events)
    return send_error(req, res, events.error());
  auto n = events->size();
  if (checks.any()) {
    append_render store = [](const append_result& r) { return compact_response(r); };
    auto out = ctx.t->append(checked_request(std::move(*events), std::move(checks), store),
                             ctx.timeout());
    append_render render = [n](const append_result& r) {
      return render_batch_reply(n, r.first, r.last);
    };
    append_replay replay = [&render](const append_result& r, std::string_view) {
      return render(r);
    };
    return send_outcome(req, res, out, render, replay);
  }
  auto result = ctx.t->append(std::move(*events), ctx.timeout());
  if (!result)
    return send_error(req, res, result.error());
  send_json(res, render_batch_reply(n, result->first, result->last));
}

} // namespace ebuse
