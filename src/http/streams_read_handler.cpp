// GET and HEAD /v1/stream/{path}: catch-up reads, offset=now, long-poll and SSE.
#include <chrono>
#include <memory>
#include <random>

#include "core/timestamp.hpp"
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/streams_http.hpp"
#include "streams/content_type.hpp"
#include "streams/sse.hpp"

namespace ebuse {

namespace {

using clock_type = std::chrono::steady_clock;

std::string new_cursor(const std::optional<std::string>& client) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return streams::response_cursor(ts::unix_now_ms(), client, rng());
}

streams::read_request request_at(const std::string& path, streams::offset_spec from,
                                 std::optional<int64_t> limit = std::nullopt) {
  streams::read_request r;
  r.path = path;
  r.from = from;
  if (limit)
    r.max_rows = *limit;
  return r;
}

void send_read_error(const httplib::Request& req, httplib::Response& res,
                     const caf::error& err) {
  send_error(req, res, err);
  res.set_header("Cache-Control", "no-store");
}

// The wait of a long-poll that found nothing parks the request: its next pass reads
// from where the first one stopped (an `offset=now` names a tail that has moved since),
// without touching the stream a second time.
void long_poll(const httplib::Request& req, httplib::Response& res, request_context& ctx,
               const std::string& path, const streams::read_params& p, std::string_view start) {
  bool parked = false;
  caf::expected<streams::read_result> rr{caf::error{}};
  if (auto resumed = resumed_stream_wait()) {
    rr = wait_or_park_for_data(ctx, path, resumed->from, resumed->stream_id, resumed_deadline(),
                               parked);
  } else {
    auto deadline = clock_type::now() + ctx.server.opts.streams.longpoll_timeout;
    rr = stream_read(ctx, request_at(path, p.from, p.limit));
    if (!rr)
      return send_read_error(req, res, rr.error());
    touch_after_read(ctx, *rr);
    if (rr->result == streams::outcome::ok && rr->appends == 0
        && !(rr->meta.closed && rr->up_to_date))
      rr = wait_or_park_for_data(ctx, path, rr->next, rr->meta.id, deadline, parked);
  }
  if (parked)
    return;
  if (!rr)
    return send_read_error(req, res, rr.error());
  auto inm = req.get_header_value("If-None-Match");
  if (rr->result == streams::outcome::ok && rr->appends == 0)
    return send_stream_response(res, streams::poll_timeout_response(*rr, new_cursor(p.cursor)));
  send_stream_response(res, streams::read_response(*rr, start, inm, new_cursor(p.cursor)));
}

// One SSE response: the catch-up, then each change, until the stream closes, the
// lifetime ends, the client leaves or the server stops. Framed by the loop, it goes on in
// the loop after its head (next_part()): no thread while it waits for a change or for
// its client to read; else each step() reads or waits on its worker.
struct sse_session : response_continuation {
  request_context ctx;
  std::string path;
  std::optional<std::string> client_cursor;
  bool base64 = false;
  std::optional<streams::read_result> first; ///< the read that validated the request
  streams::offset from;
  int64_t stream_id = 0;
  bool caught_up = false;
  clock_type::time_point end_of_life;
  clock_type::time_point wait_until = clock_type::time_point::max(); ///< of a wait in the loop

  explicit sse_session(request_context c) : ctx(std::move(c)) {}

  clock_type::time_point wait_deadline() const {
    return std::min(end_of_life, clock_type::now() + ctx.server.opts.streams.longpoll_timeout);
  }

  caf::expected<streams::read_result> next_read() {
    if (first) {
      auto rr = std::move(*first);
      first.reset();
      return rr;
    }
    if (!caught_up)
      return stream_read(ctx, request_at(path, {streams::offset_kind::at, from}));
    return wait_for_data(ctx, path, from, stream_id, wait_deadline());
  }

  // Appends the events answering `rr` to `out` (`last`: they end the response); false
  // when the response ends without them.
  bool render(const caf::expected<streams::read_result>& rr, bool initial, std::string& out,
              bool& last) {
    if (!rr || rr->result != streams::outcome::ok || ctx.t->streams_signal().stopped())
      return false;
    if (!initial && rr->meta.id != stream_id)
      return false; // another stream under the same path: the one followed is gone
    bool closed_end = rr->meta.closed && rr->up_to_date;
    bool idle = !initial && rr->appends == 0 && !closed_end;
    if (idle && clock_type::now() >= end_of_life)
      return false;
    if (rr->appends > 0)
      streams::append_data_event(rr->payload, base64, out);
    streams::append_control_event(rr->next, closed_end ? "" : new_cursor(client_cursor),
                                  rr->up_to_date, closed_end, out);
    from = rr->next;
    caught_up = rr->up_to_date;
    last = closed_end;
    return true;
  }

  // Writes the next events; false ends the response.
  bool step(httplib::DataSink& sink) {
    bool initial = first.has_value();
    auto rr = next_read();
    std::string out;
    bool last = false;
    if (!render(rr, initial, out, last)) {
      sink.done();
      return true;
    }
    if (!sink.write(out.data(), out.size()))
      return false;
    flush_response();
    if (last)
      sink.done();
    return true;
  }

  // An SSE response ends (closed stream, lifetime, shutdown) and its connection stays.
  bool finite() const noexcept override {
    return true;
  }

  // The same events as step(), each call one chunk; a wait parks in the loop.
  continuation_step next_part(std::string& out, bool stopping,
                              const continuation_park& park) override {
    bool initial = first.has_value();
    caf::expected<streams::read_result> rr{caf::error{}};
    if (stopping) {
      rr = caf::error{}; // ends now, as a wait the stopping signal ended
    } else if (first || !caught_up) {
      rr = next_read();
    } else {
      if (wait_until == clock_type::time_point::max())
        wait_until = wait_deadline();
      bool parked = false;
      rr = read_or_park_in_loop(ctx, path, from, stream_id, wait_until, park, parked);
      if (parked)
        return continuation_step::wait;
      wait_until = clock_type::time_point::max();
    }
    std::string events;
    bool last = false;
    bool more = !stopping && render(rr, initial, events, last);
    if (more)
      append_chunk(out, events);
    if (more && !last)
      return continuation_step::more;
    out.append(last_chunk);
    return continuation_step::end;
  }
};

void serve_sse(const httplib::Request& req, httplib::Response& res, request_context& ctx,
               const std::string& path, const streams::read_params& p) {
  auto rr = stream_read(ctx, request_at(path, p.from));
  if (!rr)
    return send_read_error(req, res, rr.error());
  touch_after_read(ctx, *rr);
  auto head = streams::sse_head(*rr);
  if (rr->result != streams::outcome::ok)
    return send_stream_response(res, head);
  res.status = 200;
  for (const auto& [name, value] : head.headers)
    if (name != "Content-Type")
      res.set_header(name, value);
  auto s = std::make_shared<sse_session>(ctx);
  s->path = path;
  s->client_cursor = p.cursor;
  s->base64 = !streams::sse_is_text(rr->meta.content_type);
  s->stream_id = rr->meta.id;
  s->end_of_life = clock_type::now() + ctx.server.opts.streams.sse_lifetime;
  s->first = std::move(*rr);
  res.set_chunked_content_provider(
    "text/event-stream",
    chunked_in_loop(s, [s](httplib::DataSink& sink) { return s->step(sink); }));
}

} // namespace

void handle_stream_read(const httplib::Request& req, httplib::Response& res,
                        request_context& ctx) {
  auto path = stream_path_of(req, res, ctx);
  if (!path)
    return;
  if (req.method == "HEAD") {
    auto r = request_at(*path, {});
    r.meta_only = true;
    auto rr = stream_read(ctx, std::move(r));
    if (!rr)
      return send_read_error(req, res, rr.error());
    return send_stream_response(res, streams::head_response(*rr));
  }
  // The values live in the request until the handler returns.
  auto offset = req.get_param_value("offset");
  auto live = req.get_param_value("live");
  auto cursor = req.get_param_value("cursor");
  auto limit = req.get_param_value("limit");
  streams::read_query q{req.get_param_value_count("offset"), offset, live,
                        req.get_param_value_count("cursor"), cursor,
                        req.get_param_value_count("limit"), limit};
  streams::read_params p;
  if (const char* why = streams::parse_read_params(q, p))
    return send_stream_response(res, streams::bad_request("invalid_parameter", why));
  std::string start = p.offset_given ? offset : std::string{"-1"};
  if (p.live == streams::live_mode::long_poll)
    return long_poll(req, res, ctx, *path, p, start);
  if (p.live == streams::live_mode::sse)
    return serve_sse(req, res, ctx, *path, p);
  auto rr = stream_read(ctx, request_at(*path, p.from, p.limit));
  if (!rr)
    return send_read_error(req, res, rr.error());
  touch_after_read(ctx, *rr);
  if (p.from.kind == streams::offset_kind::now)
    return send_stream_response(res, streams::now_response(*rr));
  send_stream_response(res, streams::read_response(*rr, start, req.get_header_value("If-None-Match"),
                                                   ""));
}

} // namespace ebuse
