// /subscriptions/{id}/position: get, save and delete through the subscription actor.
#include "http/codec.hpp"
#include "http/handlers.hpp"

namespace ebuse {

namespace {

// The id of the path, URL-decoded already: an id holding an encoded '/' shows up as an
// extra segment and is rejected, as the original does.
caf::expected<std::string> subscription_id(const httplib::Request& req,
                                           const request_context& ctx) {
  auto id = ctx.entry->id_of(req.path);
  if (auto err = check_subscription_id(id))
    return err;
  return std::string{id};
}

} // namespace

void handle_subscription_get(const httplib::Request& req, httplib::Response& res,
                             request_context& ctx) {
  auto id = subscription_id(req, ctx);
  if (!id)
    return send_error(req, res, id.error());
  auto pos = ask(ctx.t->subscriptions(), sub_get_cmd{std::move(*id), {}},
                          ctx.timeout());
  if (!pos)
    return send_error(req, res, pos.error());
  send_json(res, render_position(*pos));
}

void handle_subscription_save(const httplib::Request& req, httplib::Response& res,
                              request_context& ctx) {
  auto id = subscription_id(req, ctx);
  if (!id)
    return send_error(req, res, id.error());
  auto position = parse_position_body(ctx.body);
  if (!position)
    return send_error(req, res, position.error());
  auto saved = ask(ctx.t->subscriptions(), sub_save_cmd{std::move(*id), *position, {}},
                            ctx.timeout());
  if (!saved)
    return send_error(req, res, saved.error());
  res.status = 204;
}

void handle_subscription_delete(const httplib::Request& req, httplib::Response& res,
                                request_context& ctx) {
  auto id = subscription_id(req, ctx);
  if (!id)
    return send_error(req, res, id.error());
  sub_save_cmd cmd;
  cmd.id = std::move(*id);
  cmd.remove = true;
  auto removed = ask(ctx.t->subscriptions(), std::move(cmd), ctx.timeout());
  if (!removed)
    return send_error(req, res, removed.error());
  res.status = 204;
}

} // namespace ebuse
