// GET /position and /metrics, answered from figures the tenant writer publishes.
#include <chrono>

#include "http/codec.hpp"
#include "http/handlers.hpp"
#include "storage/event_json.hpp"
#include "storage/json_text.hpp"

namespace ebuse {

void handle_position(const httplib::Request&, httplib::Response& res,
                     request_context& ctx) {
  send_json(res, render_position(ctx.t->stats().head.load(std::memory_order_acquire)));
}

void handle_metrics(const httplib::Request&, httplib::Response& res, request_context& ctx,
                    bool multi_tenant) {
  const auto& st = ctx.t->stats();
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // Keys in the order Go's encoder writes a map (sorted), so the original's fields
  // come out byte for byte; the writer figures follow.
  std::string out = "{";
  if (multi_tenant) {
    out.append("\"tenant\":");
    json::append_quoted(ctx.t->name(), out);
    out.push_back(',');
  }
  out.append("\"timestamp\":");
  append_int(out, now);
  out.append(",\"total_events\":");
  append_int(out, st.head.load(std::memory_order_acquire));
  out.append(",\"writer\":{\"commits\":");
  append_int(out, static_cast<int64_t>(st.commits.load(std::memory_order_relaxed)));
  out.append(",\"events_written\":");
  append_int(out, static_cast<int64_t>(st.events_written.load(std::memory_order_relaxed)));
  out.append(",\"failed_commits\":");
  append_int(out, static_cast<int64_t>(st.failed_commits.load(std::memory_order_relaxed)));
  out.append(",\"max_group_events\":");
  append_int(out, static_cast<int64_t>(st.max_group.load(std::memory_order_relaxed)));
  out.append("}}\n");
  send_json(res, std::move(out));
}

} // namespace ebuse
