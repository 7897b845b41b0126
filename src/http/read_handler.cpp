// GET /events and GET /events/stream: pages from the tenant readers, flat memory.
#include <memory>

#include "http/codec.hpp"
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/gzip.hpp"
#include "http/handlers.hpp"
#include "http/live.hpp"
#include "http/page_flight.hpp"
#include "http/request_state.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

// Page size for ranges read through the chunked path of GET /events?to=.
constexpr int64_t range_page_size = 1000;

/// State of one paged response; the next page is requested before the current one is
/// written, so the reader renders while the socket drains.
struct pager {
  std::shared_ptr<tenant> t;
  std::chrono::nanoseconds timeout;
  int64_t next;       ///< first position of the next page
  int64_t end;        ///< last position to send (inclusive)
  int64_t page_size;
  const char* closing; ///< "]\n" for GET /events (Go's json.Encoder), "]" for the stream
  bool ndjson = false;  ///< one event per line, no brackets (export)
  type_filter types;    ///< only these types (empty: all)
  bool started = false;
  bool have_prefetch = false;
  reply_future<event_page> prefetch;
  event_page first_page;
  bool have_first = false;
  std::unique_ptr<stream_body> body; ///< gzip or identity, counted for the log

  void request_next() {
    load_cmd cmd;
    cmd.from = next;
    cmd.to = end;
    cmd.limit = page_size;
    cmd.ndjson = ndjson;
    cmd.types = types;
    prefetch = dispatch(t->reader(), std::move(cmd));
    have_prefetch = true;
  }

  caf::expected<event_page> take() {
    have_prefetch = false;
    return await(prefetch, timeout);
  }

  // After `page`, is there more to read?
  bool more_after(const event_page& page) const {
    return page.count == page_size && page.last_position < end;
  }

  // Writes the next part of the array. Returns false to cut the response off without
  // its closing bracket, so that a client can tell it is truncated.
  bool write_next(httplib::DataSink& sink) {
    event_page page;
    if (have_first) {
      page = std::move(first_page);
      have_first = false;
    } else if (have_prefetch) {
      auto res = take();
      if (!res) {
        log::write(log::level::error, "stream page failed",
                   {{"tenant", log::str(t->name())},
                    {"from", log::num(next)},
                    {"error", log::str(message_of(res.error()))}});
        return false;
      }
      page = std::move(*res);
    }
    std::string chunk;
    if (ndjson) {
      // Each event already ends its own line.
    } else if (!started) {
      chunk.push_back('[');
    } else if (page.count > 0) {
      chunk.push_back(',');
    }
    bool more = page.count > 0 && more_after(page);
    if (more) {
      next = page.last_position + 1;
      request_next();
    }
    if (chunk.size() == 1 && page.count > 0) {
      // Avoid copying a large page just to prepend one byte.
      if (!body->write(sink, chunk.data(), 1))
        return false;
      chunk.clear();
    }
    started = true;
    if (page.count > 0 && !body->write(sink, page.json.data(), page.json.size()))
      return false;
    if (!more) {
      chunk.append(closing);
      return body->write(sink, chunk.data(), chunk.size()) && body->finish(sink);
    }
    if (!chunk.empty() && !body->write(sink, chunk.data(), chunk.size()))
      return false;
    // A consumer decodes each page as it arrives, compressed or not.
    if (!body->flush(sink))
      return false;
    flush_response();
    return true;
  }
};

caf::expected<event_page> load_once(tenant& t, int64_t from, int64_t to, int64_t limit,
                                    bool ndjson, std::chrono::nanoseconds timeout,
                                    const type_filter& types) {
  load_cmd cmd;
  cmd.from = from;
  cmd.to = to;
  cmd.limit = limit;
  cmd.ndjson = ndjson;
  cmd.types = types;
  return ask(t.reader(), std::move(cmd), timeout);
}

} // namespace

void send_event_page(const httplib::Request& req, httplib::Response& res,
                     request_context& ctx, int64_t from, int64_t to, int64_t limit,
                     std::chrono::nanoseconds wait, const type_filter& types) {
  caf::expected<event_page> page{event_page{}};
  auto load = [&] {
    load_cmd cmd;
    cmd.from = from;
    cmd.to = to;
    cmd.limit = limit;
    cmd.as_array = true;
    cmd.types = types;
    return ask(ctx.t->reader(), std::move(cmd), ctx.timeout());
  };
  auto read = [&] {
    if (wait.count() > 0) {
      // The long-polls a commit wakes all read at once: identical ones share one load.
      auto shared = page_flight::shared().get(
        page_flight::key_of(*ctx.t, from, to, limit, types), load);
      page = shared ? caf::expected<event_page>{**shared}
                    : caf::expected<event_page>{std::move(shared.error())};
    } else {
      page = load();
    }
    return !page || page->count > 0;
  };
  if (wait.count() == 0)
    read();
  else if (wait_or_park(ctx.t, wait, read) == live_wait::parked)
    return;
  if (!page)
    return send_error(req, res, page.error());
  set_head_header(res, *ctx.t, page->last_position);
  send_event_json(res, std::move(page->json));
}

namespace {

void send_one_page(const httplib::Request& req, httplib::Response& res, request_context& ctx,
                   int64_t from, int64_t to, std::chrono::nanoseconds wait,
                   const type_filter& types) {
  send_event_page(req, res, ctx, from, to, default_load_limit, wait, types);
}

// Waits (parked) until some event of [from, to] exists, the deadline passes or the server
// stops; none when none came (or reading failed: the response then reads again and says
// so).
live_wait wait_for_range(request_context& ctx, int64_t from, int64_t to,
                         std::chrono::nanoseconds wait, const type_filter& types) {
  return wait_or_park(ctx.t, wait, [&] {
    auto probe = load_once(*ctx.t, from, to, 1, false, ctx.timeout(), types);
    return !probe || probe->count > 0;
  });
}

// Streams [from, end] page by page; the first page is read before the status line is
// sent, so that a failing store still yields a proper error response.
void stream_pages(const httplib::Request& req, httplib::Response& res,
                  request_context& ctx, int64_t from, int64_t end, int64_t page_size,
                  const char* closing, bool ndjson = false, const type_filter& types = {}) {
  auto p = std::make_shared<pager>();
  p->types = types;
  p->closing = closing;
  p->ndjson = ndjson;
  p->t = ctx.t;
  p->timeout = ctx.timeout();
  p->next = from;
  p->end = end;
  p->page_size = page_size;
  auto first = load_once(*ctx.t, from, end, page_size, ndjson, ctx.timeout(), types);
  if (!first)
    return send_error(req, res, first.error());
  if (!ndjson)
    set_head_header(res, *ctx.t, first->last_position);
  p->first_page = std::move(*first);
  p->have_first = true;
  // Whether to compress is decided before the status line: by the first page, or by
  // there being more than one.
  bool large = p->first_page.json.size() >= current_request().gzip_min_bytes
               || p->more_after(p->first_page);
  p->body = std::make_unique<stream_body>(begin_event_stream(res, large));
  // After the head, page by page from the event loop: a slow reader holds no worker.
  res.set_chunked_content_provider(ndjson ? "application/x-ndjson" : "application/json",
                                   finite_in_loop([p](httplib::DataSink& sink) {
                                     return p->write_next(sink);
                                   }));
}

// The query parameter `name` as a position, `absent` when it is not given.
caf::expected<int64_t> optional_position(const httplib::Request& req, const char* name,
                                         int64_t absent, bool allow_minus_one) {
  auto text = req.get_param_value(name);
  if (text.empty())
    return absent;
  return parse_position_param(name, text, allow_minus_one);
}

} // namespace

void handle_load(const httplib::Request& req, httplib::Response& res,
                 request_context& ctx) {
  auto from = parse_position_param("from", req.get_param_value("from"), false);
  if (!from)
    return send_error(req, res, from.error());
  auto to_param = optional_position(req, "to", -1, true);
  if (!to_param)
    return send_error(req, res, to_param.error());
  auto wait = parse_wait_param(req, ctx.server.opts.live);
  if (!wait)
    return send_error(req, res, wait.error());
  auto types = parse_type_param(req);
  if (!types)
    return send_error(req, res, types.error());
  int64_t to = *to_param;
  if (to < 0) {
    return send_one_page(req, res, ctx, *from, -1, *wait, *types);
  }
  if (to < *from) {
    // No event can ever fall in the range: nothing to wait for.
    set_head_header(res, *ctx.t);
    return send_event_json(res, "[]\n");
  }
  // A range is not capped (as in the original); a large one is streamed so memory
  // stays flat however many events it spans.
  if (to - *from < default_load_limit) {
    return send_one_page(req, res, ctx, *from, to, *wait, *types);
  }
  if (wait->count() > 0) {
    auto waited = wait_for_range(ctx, *from, to, *wait, *types);
    if (waited == live_wait::parked)
      return;
    if (waited == live_wait::none) {
      set_head_header(res, *ctx.t);
      return send_event_json(res, "[]\n");
    }
  }
  stream_pages(req, res, ctx, *from, to, range_page_size, "]\n", false, *types);
}

void handle_export(const httplib::Request& req, httplib::Response& res,
                   request_context& ctx) {
  auto from = optional_position(req, "from", 0, false);
  if (!from)
    return send_error(req, res, from.error());
  auto to = optional_position(req, "to", -1, true);
  if (!to)
    return send_error(req, res, to.error());
  // Without `to`, the export ends at the head committed when it began, so it ends
  // while appends continue.
  auto end = *to >= 0 ? *to : ctx.t->stats().head.load(std::memory_order_acquire);
  if (end < *from) {
    res.status = 200;
    res.set_content("", "application/x-ndjson");
    return;
  }
  stream_pages(req, res, ctx, *from, end, range_page_size, "", true);
}

void handle_stream(const httplib::Request& req, httplib::Response& res,
                   request_context& ctx) {
  auto from = parse_position_param("from", req.get_param_value("from"), false);
  if (!from)
    return send_error(req, res, from.error());
  auto page_size = stream_batch_size(req.get_param_value("batch_size"));
  auto types = parse_type_param(req);
  if (!types)
    return send_error(req, res, types.error());
  if (wants_event_lines(req))
    return handle_stream_lines(req, res, ctx, *from, page_size, *types);
  // The stream ends at the head committed when it began, so it terminates even while
  // appends continue; a consumer picks up the rest with its next request.
  auto end = ctx.t->stats().head.load(std::memory_order_acquire);
  stream_pages(req, res, ctx, *from, end, page_size, "]", false, *types);
}

} // namespace ebuse
