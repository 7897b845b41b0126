// Fuzzes parse_batch (POST /events/batch) with a small limit so that the limit is hit.
#include "fuzz_check.hpp"
#include "http/codec.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t max = 8;
  auto batch = parse_batch(fuzz::as_text(data, size), max);
  if (!batch)
    return 0;
  FUZZ_CHECK(!batch->empty() && batch->size() <= max);
  for (const auto& ev : *batch) {
    FUZZ_CHECK(!ev.type.empty());
    fuzz::check_json(ev.data);
    fuzz::check_stored_round_trip(ev.timestamp);
  }
  return 0;
}
