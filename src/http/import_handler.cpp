// POST /events/import: an export's NDJSON, streamed in chunks through the tenant writer.
#include <vector>

#include "http/codec.hpp"
#include "http/connection.hpp"
#include "http/handlers.hpp"
#include "http/ndjson.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

// A chunk is one transaction. Large enough that commits cost little per event, small
// enough that two chunks (one committing, one being parsed) stay a few MiB.
constexpr std::size_t chunk_events = 10000;
constexpr std::size_t chunk_bytes = 4u << 20;

/// One import: parses lines into a chunk while the previous chunk commits.
class importer {
public:
  explicit importer(request_context& ctx) : ctx_(ctx) {
  }

  /// Takes line `number`; false stops the import (see failed()).
  bool add(std::string_view line, int64_t number) {
    if (blank_line(line))
      return true;
    auto ev = parse_exported_event(line);
    if (!ev)
      return fail_line(number, ev.error());
    if (ev->position <= last_parsed_)
      return fail_line(number, make_error(errc::invalid_event,
                                          "position " + std::to_string(ev->position)
                                            + " is not above the previous line's "
                                            + std::to_string(last_parsed_)
                                            + "; positions must increase"));
    last_parsed_ = ev->position;
    bytes_ += ev->event.data.size() + ev->event.type.size() + 64;
    chunk_.push_back(std::move(*ev));
    if (chunk_.size() >= chunk_events || bytes_ >= chunk_bytes)
      return send();
    return true;
  }

  /// Commits what is parsed and waits for every chunk; false when one failed.
  bool finish() {
    return send() && collect();
  }

  /// Stops at line `number` for `err`, after committing the lines before it.
  bool fail_line(int64_t number, caf::error err) {
    finish();
    if (!failure_) {
      failure_ = std::move(err);
      failed_line_ = number;
    }
    return false;
  }

  const caf::error& failure() const noexcept {
    return failure_;
  }

  int64_t failed_line() const noexcept {
    return failed_line_;
  }

  const import_summary& summary() const noexcept {
    return done_;
  }

private:
  // Sends the chunk once the one before it has committed: each expects the head the
  // previous one left, so nothing else can slip in between.
  bool send() {
    if (!collect())
      return false;
    if (chunk_.empty())
      return true;
    import_cmd cmd;
    cmd.events = std::move(chunk_);
    chunk_.clear();
    bytes_ = 0;
    cmd.expected_head = sent_head_;
    sent_head_ = cmd.events.back().position;
    in_flight_ = static_cast<int64_t>(cmd.events.size());
    auto [tx, rx] = make_reply<append_result>();
    cmd.reply = std::move(tx);
    pending_ = std::move(rx);
    caf::anon_send(ctx_.t->writer(), std::move(cmd));
    return true;
  }

  bool collect() {
    if (in_flight_ == 0)
      return !failure_;
    auto res = await(pending_, ctx_.timeout());
    auto n = in_flight_;
    in_flight_ = 0;
    if (!res) {
      if (!failure_)
        failure_ = std::move(res.error());
      return false;
    }
    if (done_.imported == 0)
      done_.first_position = res->first;
    done_.last_position = res->last;
    done_.imported += n;
    return true;
  }

  request_context& ctx_;
  std::vector<positioned_event> chunk_;
  std::size_t bytes_ = 0;
  int64_t last_parsed_ = 0;
  int64_t sent_head_ = 0;
  int64_t in_flight_ = 0;
  reply_future<append_result> pending_;
  import_summary done_;
  caf::error failure_;
  int64_t failed_line_ = 0;
};

// Answers a failed import with `e` (whose code is `code`) at `line` (0: none).
void reply_import_error(httplib::Response& res, const http_error& e, const char* code,
                        int64_t line, const import_summary& s) {
  auto message = line > 0 ? "line " + std::to_string(line) + ": " + e.message : e.message;
  // The rest of the body is not read: the connection cannot carry another request.
  close_after_response(res);
  res.status = e.status;
  res.set_content(render_import_error(message, code, line, s), "application/json");
}

void reply_import_error(const httplib::Request& req, httplib::Response& res,
                        const caf::error& err, int64_t line, const import_summary& s) {
  auto e = to_http_error(err);
  if (e.server_side)
    log::write(log::level::error, "import failed",
               {{"path", log::str(req.path)},
                {"code", log::str(to_code(code_of(err)))},
                {"detail", log::str(message_of(err))},
                {"imported", log::num(s.imported)}});
  reply_import_error(res, e, to_code(code_of(err)), line, s);
}

} // namespace

void handle_import(const httplib::Request& req, httplib::Response& res, request_context& ctx) {
  const auto& reader = *ctx.reader;
  auto head = ctx.t->stats().head.load(std::memory_order_acquire);
  if (head != 0)
    return reply_import_error(req, res,
                              make_error(errc::tenant_not_empty,
                                         "the tenant holds events up to position "
                                           + std::to_string(head)
                                           + "; an import goes into an empty tenant only"),
                              0, {});
  importer imp{ctx};
  const auto max_line = ctx.server.opts.max_body_bytes;
  line_reader lines{max_line};
  auto on_line = [&imp](std::string_view line, int64_t number) {
    return imp.add(line, number);
  };
  bool read = reader([&](const char* data, size_t len) {
    renew_read_deadline();
    return lines.feed({data, len}, on_line);
  });
  if (read && lines.finish(on_line) && imp.finish())
    return send_json(res, render_import_reply(imp.summary()));
  if (lines.too_long()) {
    imp.finish();
    auto e = to_http_error(http_errc::payload_too_large,
                           "longer than MAX_BODY_BYTES (" + std::to_string(max_line)
                             + " bytes)");
    return reply_import_error(res, e, to_code(http_errc::payload_too_large), lines.number(),
                              imp.summary());
  }
  if (imp.failure())
    return reply_import_error(req, res, imp.failure(), imp.failed_line(), imp.summary());
  // The body stopped arriving (the client went away or READ_TIMEOUT passed).
  imp.finish();
  reply_import_error(req, res,
                     make_error(errc::invalid_json, "the request body could not be read"), 0,
                     imp.summary());
}

} // namespace ebuse
