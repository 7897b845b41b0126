// PUT, POST and DELETE /v1/stream/{path}: parse headers, one command to the tenant
// writer, and the protocol layer's response.
#include "http/streams_http.hpp"

#include "http/request_state.hpp"
#include "streams/content_type.hpp"
#include "streams/producer.hpp"
#include "streams/stream_config.hpp"

namespace ebuse {

namespace {

// Longest Stream-Seq accepted.
constexpr std::size_t max_stream_seq_size = 256;

void send_error_outcome(const httplib::Request& req, httplib::Response& res,
                        const caf::error& err) {
  send_error(req, res, err);
  res.set_header("Cache-Control", "no-store");
}

// The absolute URL of the request's stream (for Location), as the client addressed it.
std::string location_of(const httplib::Request& req) {
  auto target = std::string_view{req.target}.substr(0, req.target.find('?'));
  auto host = req.get_header_value("Host");
  if (host.empty())
    host = req.local_addr + ":" + std::to_string(req.local_port);
  return "http://" + host + std::string{target};
}

// Parses the fork headers into `out.fork`; false after sending a 400. The source may be
// named by its stream path or by the whole path of its URL (`prefix` and stream path).
bool parse_fork(const httplib::Request& req, httplib::Response& res, std::string_view prefix,
                streams::create_request& out) {
  auto from = header_of(req, "Stream-Forked-From");
  auto at = header_of(req, "Stream-Fork-Offset");
  auto sub = header_of(req, "Stream-Fork-Sub-Offset");
  if (!from) {
    if (at || sub) {
      send_stream_response(res, streams::bad_request("invalid_fork",
                                                     "fork headers need Stream-Forked-From"));
      return false;
    }
    return true;
  }
  std::string source = httplib::detail::decode_url(*from, false);
  if (source.rfind(prefix, 0) == 0)
    source.erase(0, prefix.size());
  if (const char* why = streams::invalid_path_reason(source)) {
    send_stream_response(res, streams::bad_request("invalid_fork", why));
    return false;
  }
  streams::fork_request f;
  f.source_path = std::move(source);
  if (at) {
    streams::offset o;
    if (!streams::parse_exact_offset(*at, o)) {
      send_stream_response(res, streams::error_response(streams::outcome::bad_fork_offset));
      return false;
    }
    f.at = o;
  }
  if (sub && !streams::parse_sub_offset(*sub, f.sub_offset)) {
    send_stream_response(res, streams::bad_request("invalid_fork_sub_offset",
                                                   "Stream-Fork-Sub-Offset must be a "
                                                   "non-negative integer"));
    return false;
  }
  out.fork = std::move(f);
  return true;
}

// Parses Stream-TTL and Stream-Expires-At; false after sending a 400.
bool parse_expiry(const httplib::Request& req, httplib::Response& res, streams::expiry& out) {
  auto ttl = header_of(req, "Stream-TTL");
  auto at = header_of(req, "Stream-Expires-At");
  if (ttl && at) {
    send_stream_response(res, streams::bad_request("invalid_expiry",
                                                   "send Stream-TTL or Stream-Expires-At, "
                                                   "not both"));
    return false;
  }
  int64_t v = 0;
  if (ttl) {
    if (!streams::parse_ttl(*ttl, v)) {
      send_stream_response(res, streams::bad_request("invalid_ttl",
                                                     "Stream-TTL must be whole seconds "
                                                     "(no sign or leading zeros), at most "
                                                     "ten years"));
      return false;
    }
    out.ttl_seconds = v;
  }
  if (at) {
    if (!streams::parse_expires_at(*at, v)) {
      send_stream_response(res, streams::bad_request("invalid_expires_at",
                                                     "Stream-Expires-At must be an RFC 3339 "
                                                     "timestamp"));
      return false;
    }
    out.expires_at_ms = v;
  }
  return true;
}

// Sends the command and the protocol's answer.
void run_write(const httplib::Request& req, httplib::Response& res, request_context& ctx,
               stream_write_cmd cmd, const std::string& location = {}) {
  auto result = stream_write(ctx, std::move(cmd));
  if (!result)
    return send_error_outcome(req, res, result.error());
  send_stream_response(res, streams::write_response(*result, location));
}

} // namespace

void handle_stream_create(const httplib::Request& req, httplib::Response& res,
                          request_context& ctx) {
  auto path = stream_path_of(req, res, ctx);
  if (!path)
    return;
  streams::create_request cr;
  cr.path = std::move(*path);
  auto type = current_request().headers.sent_content_type();
  if (type && streams::valid_content_type(*type))
    cr.content_type = std::move(*type);
  if (!parse_expiry(req, res, cr.exp) || !parse_fork(req, res, ctx.entry->path, cr))
    return;
  cr.closed = streams::header_is_true(req.get_header_value("Stream-Closed"));
  cr.body = streams::prepare_body(std::move(ctx.body), streams::is_json(cr.content_type));
  stream_write_cmd cmd;
  cmd.op = std::move(cr);
  run_write(req, res, ctx, std::move(cmd), location_of(req));
}

void handle_stream_append(const httplib::Request& req, httplib::Response& res,
                          request_context& ctx) {
  auto path = stream_path_of(req, res, ctx);
  if (!path)
    return;
  streams::append_request ar;
  ar.path = std::move(*path);
  auto id = header_of(req, "Producer-Id");
  auto epoch = header_of(req, "Producer-Epoch");
  auto seq = header_of(req, "Producer-Seq");
  std::string_view idv, epochv, seqv;
  if (id)
    idv = *id;
  if (epoch)
    epochv = *epoch;
  if (seq)
    seqv = *seq;
  auto perr = streams::parse_producer(id ? &idv : nullptr, epoch ? &epochv : nullptr,
                                      seq ? &seqv : nullptr, ar.producer);
  if (perr != streams::producer_header_error::none)
    return send_stream_response(res, streams::bad_request("invalid_producer",
                                                          streams::describe(perr)));
  if (auto stream_seq = header_of(req, "Stream-Seq")) {
    if (stream_seq->empty() || stream_seq->size() > max_stream_seq_size)
      return send_stream_response(res, streams::bad_request("invalid_stream_seq",
                                                            "Stream-Seq must be 1 to 256 "
                                                            "bytes"));
    ar.stream_seq = std::move(*stream_seq);
  }
  ar.close = streams::header_is_true(req.get_header_value("Stream-Closed"));
  if (auto type = current_request().headers.sent_content_type())
    ar.content_type = std::move(*type);
  ar.body = streams::prepare_body(std::move(ctx.body), streams::is_json(ar.content_type));
  stream_write_cmd cmd;
  cmd.op = std::move(ar);
  run_write(req, res, ctx, std::move(cmd));
}

void handle_stream_delete(const httplib::Request& req, httplib::Response& res,
                          request_context& ctx) {
  auto path = stream_path_of(req, res, ctx);
  if (!path)
    return;
  stream_write_cmd cmd;
  cmd.op = stream_delete{std::move(*path)};
  run_write(req, res, ctx, std::move(cmd));
}

} // namespace ebuse
