// Fuzzes the Durable Streams parsers: JSON flattening, offsets, producer headers, create
// headers and SSE framing. No crash, and each accepted input keeps its invariants.
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "streams/json_batch.hpp"
#include "streams/offset.hpp"
#include "streams/producer.hpp"
#include "streams/sse.hpp"
#include "streams/stream_config.hpp"

using namespace ebuse;
namespace ds = ebuse::streams;

namespace {

void check_flatten(std::string_view body) {
  ds::json_messages msgs;
  std::string detail;
  if (ds::flatten_json(body, msgs, detail) != ds::json_body::ok)
    return;
  FUZZ_CHECK(msgs.count >= 1);
  // The stored row reads back as one JSON array of exactly its messages.
  fuzz::check_json("[" + msgs.joined + "]");
  ds::json_messages again;
  auto verdict = ds::flatten_json("[" + msgs.joined + "]", again, detail);
  FUZZ_CHECK(verdict == ds::json_body::ok && again.joined == msgs.joined
             && again.count == msgs.count);
  std::string all;
  FUZZ_CHECK(ds::take_json_messages(msgs.joined, msgs.count, all) && all == msgs.joined);
  FUZZ_CHECK(!ds::take_json_messages(msgs.joined, msgs.count + 1, all));
}

void check_offset(std::string_view text) {
  auto spec = ds::parse_offset(text);
  if (spec.kind == ds::offset_kind::at)
    FUZZ_CHECK(ds::format_offset(spec.at) == text);
}

// A text data event is `event: data`, then only `data:` lines, then one empty line: no
// payload can end it early or start another.
void check_sse(std::string_view payload) {
  std::string out;
  ds::append_data_event(payload, false, out);
  FUZZ_CHECK(out.rfind("event: data\n", 0) == 0);
  FUZZ_CHECK(out.size() >= 2 && out.compare(out.size() - 2, 2, "\n\n") == 0);
  auto body = std::string_view{out}.substr(12, out.size() - 13);
  FUZZ_CHECK(body.find('\r') == std::string_view::npos);
  std::size_t pos = 0;
  while (pos < body.size()) {
    FUZZ_CHECK(body.compare(pos, 5, "data:") == 0);
    pos = body.find('\n', pos) + 1;
  }
}

void check_headers(std::string_view text) {
  // Three header values separated by newlines.
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (int i = 0; i < 2; ++i) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos)
      return;
    parts.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  parts.push_back(text.substr(start));
  std::optional<ds::producer_request> p;
  if (ds::parse_producer(&parts[0], &parts[1], &parts[2], p) == ds::producer_header_error::none)
    FUZZ_CHECK(p && !p->id.empty() && p->epoch >= 0 && p->seq >= 0
               && p->seq <= ds::max_producer_number);
  int64_t v = 0;
  if (ds::parse_ttl(parts[0], v))
    FUZZ_CHECK(std::to_string(v) == parts[0]);
  int64_t ms = 0;
  // Within the years RFC 3339 text can hold once normalised to UTC.
  constexpr int64_t last_ms = 253402300799999; // 9999-12-31T23:59:59.999Z
  if (ds::parse_expires_at(parts[1], ms) && ms >= 0 && ms <= last_ms) {
    int64_t back = -1;
    FUZZ_CHECK(ds::parse_expires_at(ds::format_expires_at(ms), back) && back == ms);
  }
  ds::invalid_path_reason(parts[2]);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto text = fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0: check_flatten(text); break;
    case 1: check_offset(text); break;
    case 2: check_sse(text); break;
    default: check_headers(text); break;
  }
  return 0;
}
