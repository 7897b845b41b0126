// /subscriptions/{id}/position: consumer checkpoints through the subscription actor.
#include "http/codec.hpp"
#include "http/handlers.hpp"

namespace ebuse {

namespace {

constexpr std::string_view prefix = "/subscriptions/";
constexpr std::string_view suffix = "/position";

} // namespace

void handle_subscription(const httplib::Request& req, httplib::Response& res,
                         request_context& ctx) {
  // The path is already URL-decoded, so an id holding an encoded '/' shows up as an
  // extra segment and is rejected like the original does.
  std::string_view path = req.path;
  if (path.size() < prefix.size() + suffix.size()
      || path.substr(path.size() - suffix.size()) != suffix)
    return send_error(res, http_errc::not_found,
                      "no such path; expected /subscriptions/{id}/position");
  auto id = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (auto err = check_subscription_id(id))
    return send_error(req, res, err);
  if (req.method == "GET" || req.method == "HEAD") {
    sub_get_cmd cmd;
    cmd.id = std::string{id};
    auto pos = ask<int64_t>(ctx.t->subscriptions(), std::move(cmd), ctx.opts.request_timeout);
    if (!pos)
      return send_error(req, res, pos.error());
    return send_json(res, render_position(*pos));
  }
  auto position = parse_position_body(ctx.body);
  if (!position)
    return send_error(req, res, position.error());
  sub_save_cmd cmd;
  cmd.id = std::string{id};
  cmd.position = *position;
  auto saved = ask<int64_t>(ctx.t->subscriptions(), std::move(cmd), ctx.opts.request_timeout);
  if (!saved)
    return send_error(req, res, saved.error());
  res.status = 204;
}

} // namespace ebuse
