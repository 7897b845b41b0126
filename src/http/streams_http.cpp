// Requests and responses of the stream API over cpp-httplib; the tenant round trips; the
// CORS preflight.
#include "http/streams_http.hpp"

#include <cctype>
#include <string_view>

#include "core/timestamp.hpp"
#include "streams/stream_config.hpp"

namespace ebuse {

void send_stream_response(httplib::Response& res, const streams::response& r) {
  res.status = r.status;
  std::string type;
  for (const auto& [name, value] : r.headers) {
    if (name == "Content-Type")
      type = value;
    else
      res.set_header(name, value);
  }
  if (!r.body.empty())
    res.set_content(r.body, type);
  else if (!type.empty())
    res.set_header("Content-Type", type);
}

namespace {

// Whether every '%' of the request target's path is followed by two hex digits: the
// parser keeps a malformed escape literally, which would name a different stream.
bool escapes_well_formed(std::string_view target) {
  target = target.substr(0, target.find('?'));
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  for (std::size_t i = target.find('%'); i != std::string_view::npos; i = target.find('%', i + 1))
    if (i + 2 >= target.size() || !hex(target[i + 1]) || !hex(target[i + 2]))
      return false;
  return true;
}

} // namespace

std::optional<std::string> stream_path_of(const httplib::Request& req, httplib::Response& res,
                                          const request_context& ctx) {
  std::string path{ctx.entry->id_of(req.path)};
  const char* why = escapes_well_formed(req.target) ? streams::invalid_path_reason(path)
                                                    : "the path has a malformed percent escape";
  if (why) {
    send_stream_response(res, streams::bad_request("invalid_stream_path", why));
    return std::nullopt;
  }
  return path;
}

std::optional<std::string> header_of(const httplib::Request& req, const char* name) {
  if (!req.has_header(name))
    return std::nullopt;
  return req.get_header_value(name);
}

caf::expected<streams::write_result> stream_write(request_context& ctx, stream_write_cmd cmd) {
  return ask(ctx.t->writer(), std::move(cmd), ctx.timeout());
}

caf::expected<streams::read_result> stream_read(request_context& ctx, streams::read_request req) {
  stream_read_cmd cmd;
  cmd.req = std::move(req);
  return ask(ctx.t->reader(), std::move(cmd), ctx.timeout());
}

void handle_stream_preflight(const httplib::Request&, httplib::Response& res,
                             request_context&) {
  send_stream_response(res, streams::preflight_response());
}

void touch_after_read(request_context& ctx, const streams::read_result& rr) {
  if (rr.result != streams::outcome::ok || !rr.meta.exp.ttl_seconds)
    return;
  auto now = ts::unix_now_ms();
  auto ttl_ms = *rr.meta.exp.ttl_seconds * 1000;
  if (now - rr.meta.last_access_ms < ttl_ms / 100)
    return;
  caf::anon_send(ctx.t->writer(), stream_touch_cmd{rr.meta.id, now});
}

} // namespace ebuse
