// Fuzzes parse_event (POST /events): no crash; an accepted event renders as valid JSON
// and its stored timestamp round-trips.
#include "fuzz_check.hpp"
#include "http/codec.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ev = parse_event(fuzz::as_text(data, size));
  if (!ev)
    return 0;
  FUZZ_CHECK(!ev->type.empty() && json::valid_utf8(ev->type));
  fuzz::check_json(ev->data);
  fuzz::check_stored_round_trip(ev->timestamp);
  auto rendered = render_saved_event(*ev, 42);
  fuzz::check_json(rendered);
  // Parsing the rendered event again yields the same event.
  auto again = parse_event(rendered);
  FUZZ_CHECK(again);
  FUZZ_CHECK(again->type == ev->type && again->data == ev->data
             && again->timestamp == ev->timestamp);
  return 0;
}
