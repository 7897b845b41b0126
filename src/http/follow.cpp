// GET /events/stream as SSE or NDJSON: the finite stream, or with follow=true the backlog
// page by page and then each commit, fed from storage at the client's pace.
#include <memory>

#include "actors/stream_signal.hpp"
#include "core/decimal.hpp"
#include "http/codec.hpp"
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/handlers.hpp"
#include "http/live.hpp"
#include "http/page_flight.hpp"

namespace ebuse {

namespace {

/// One SSE or NDJSON response. Each call of step() reads at most one page and writes it
/// before the next is read: a slow client is never buffered for beyond a page, and one
/// that accepts no bytes for WRITE_TIMEOUT is closed. A follower that has written all
/// there is goes on in the event loop (next_part()): no thread while it waits for a
/// commit, its heartbeat, or its client to take the last page.
struct follower : response_continuation, std::enable_shared_from_this<follower> {
  using clock = std::chrono::steady_clock;

  std::shared_ptr<tenant> t;
  std::chrono::nanoseconds timeout;
  std::chrono::nanoseconds heartbeat;
  type_filter types;
  bool sse = false;
  bool follow = false;
  int64_t next = 0;
  int64_t end = -1; ///< last position of a finite stream; -1 when following
  int64_t page_size = 1000;
  caf::expected<event_page> page{event_page{}};
  bool have_page = false; ///< `page` was read and not yet written
  clock::time_point beat_at; ///< in the loop: when a heartbeat is due

  bool read() {
    auto load = [this] {
      load_cmd cmd;
      cmd.from = next;
      cmd.to = end;
      cmd.limit = page_size;
      cmd.ndjson = true; // one event per line, also when the stored data has line breaks
      cmd.types = types;
      return ask(t->reader(), std::move(cmd), timeout);
    };
    // The followers one commit wakes ask for the same page: one load serves them all
    // (keyed apart from the JSON pages of long-polls).
    auto shared = page_flight::shared().get(
      "lines " + page_flight::key_of(*t, next, end, page_size, types), load);
    page = shared ? caf::expected<event_page>{**shared}
                  : caf::expected<event_page>{std::move(shared.error())};
    have_page = true;
    return !page || page->count > 0;
  }

  // The page's lines as the response's format: NDJSON as read; SSE one message per line,
  // `id:` from the `{"position":N` each line starts with.
  std::string render() const {
    if (!sse)
      return page->json;
    std::string out;
    out.reserve(page->json.size() + static_cast<std::size_t>(page->count) * 32);
    std::size_t at = 0;
    constexpr std::string_view lead = "{\"position\":";
    while (at < page->json.size()) {
      auto nl = page->json.find('\n', at);
      std::string_view line{page->json.data() + at, nl - at};
      auto digits = line.substr(lead.size(), line.find(',') - lead.size());
      out.append("id: ").append(digits).append("\ndata: ").append(line).append("\n\n");
      at = nl + 1;
    }
    return out;
  }

  // Writes the next page, a heartbeat, or ends the response; false cuts it off.
  bool step(httplib::DataSink& sink) {
    if (follow && continue_in_loop(shared_from_this())) {
      beat_at = clock::now() + heartbeat;
      return false; // the loop goes on with next_part(); the library writes no more
    }
    auto& signal = t->streams_signal();
    if (!have_page && !signal.stopped()) {
      if (!follow) {
        read();
      } else {
        bool client_left = false;
        follow_events(*t, std::chrono::steady_clock::now() + heartbeat,
                      [this] { return read(); }, client_left);
        if (client_left)
          return false; // nobody to write to: end now, not at the next commit or heartbeat
      }
    }
    if (have_page && !page)
      return false; // a read failed: cut off, so the client sees the truncation
    if (!have_page || page->count == 0) {
      have_page = false;
      if (!follow || signal.stopped()) {
        sink.done();
        return true;
      }
      if (!sink.write(beat(), std::char_traits<char>::length(beat())))
        return false;
      flush_response();
      return true;
    }
    auto out = render();
    next = page->last_position + 1;
    have_page = false;
    if (!sink.write(out.data(), out.size()))
      return false;
    flush_response();
    return true;
  }

  const char* beat() const {
    return sse ? ": keep-alive\n\n" : "\n";
  }

  // The parts step() writes, framed as the library frames them, for the loop.
  continuation_step next_part(std::string& out, bool stopping,
                              const continuation_park& park) override {
    auto& signal = t->streams_signal();
    if (stopping || signal.stopped()) {
      out.append(last_chunk);
      return continuation_step::end;
    }
    if (!have_page) {
      stream_watch watch{signal, event_log_signal};
      // Taken before the read: a commit after it wakes the parked follower.
      auto seen = watch.version();
      if (!read() && clock::now() < beat_at) {
        have_page = false;
        park(beat_at, wake_on_commit(t, seen));
        return continuation_step::wait;
      }
    }
    // A page (the first is read before the response's head), or a heartbeat when due.
    have_page = false;
    if (!page)
      return continuation_step::cut;
    append_chunk(out, page->count > 0 ? render() : std::string{beat()});
    if (page->count > 0)
      next = page->last_position + 1;
    beat_at = clock::now() + heartbeat;
    return continuation_step::more;
  }
};

bool accepts(const httplib::Request& req, const char* type) {
  return req.get_header_value("Accept").find(type) != std::string::npos;
}

caf::error bad(std::string message) {
  return make_error(errc::invalid_parameter, std::move(message));
}

} // namespace

bool wants_event_lines(const httplib::Request& req) {
  return accepts(req, "text/event-stream") || accepts(req, "application/x-ndjson")
         || req.has_param("follow");
}

void handle_stream_lines(const httplib::Request& req, httplib::Response& res,
                         request_context& ctx, int64_t from, int64_t page_size,
                         const type_filter& types) {
  auto f = std::make_shared<follower>();
  f->sse = accepts(req, "text/event-stream");
  if (!f->sse && !accepts(req, "application/x-ndjson"))
    return send_error(req, res, bad("invalid 'follow' parameter: a follow needs Accept: "
                                    "text/event-stream or application/x-ndjson"));
  auto follow = req.get_param_value("follow");
  if (follow == "true" || follow == "1")
    f->follow = true;
  else if (req.has_param("follow") && follow != "false" && follow != "0")
    return send_error(req, res, bad("invalid 'follow' parameter: expected true or false"));
  if (req.has_header("Last-Event-ID")) {
    int64_t last;
    if (!parse_int64(req.get_header_value("Last-Event-ID"), last) || last < 0
        || last == INT64_MAX)
      return send_error(req, res, bad("invalid Last-Event-ID: expected a position"));
    from = last + 1; // resumes after the last event the client saw
  }
  f->t = ctx.t;
  f->timeout = ctx.timeout();
  f->heartbeat = ctx.server.opts.live.heartbeat;
  f->types = types;
  f->next = from;
  f->page_size = page_size;
  // A finite stream ends at the head committed when it began, as the JSON one does.
  f->end = f->follow ? -1 : ctx.t->stats().head.load(std::memory_order_acquire);
  // The first page is read before the status line: a failing store is a proper error.
  if (f->end < 0 || from <= f->end) {
    f->read();
    if (!f->page)
      return send_error(req, res, f->page.error());
  }
  set_head_header(res, *ctx.t, f->have_page ? f->page->last_position : 0);
  res.set_header("Cache-Control", "no-cache");
  auto type = f->sse ? "text/event-stream" : "application/x-ndjson";
  if (f->follow)
    return res.set_chunked_content_provider(type, [f](size_t, httplib::DataSink& sink) {
      return f->step(sink);
    });
  // A finite stream goes on page by page from the event loop after its head.
  res.set_chunked_content_provider(type, finite_in_loop([f](httplib::DataSink& sink) {
                                     return f->step(sink);
                                   }));
}

} // namespace ebuse
