// Fuzzes the timestamp parsers: RFC 3339 (wire) and the stored text forms. Whatever
// parses formats back to text that parses to the same time.
#include "fuzz_check.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::as_text(data, size);
  ts::civil_time t;
  if (ts::parse_rfc3339(in, t)) {
    ts::civil_time u;
    FUZZ_CHECK(ts::parse_rfc3339(ts::format_rfc3339(t), u) && fuzz::same_time(t, u));
    FUZZ_CHECK(ts::parse_stored(ts::format_stored(t), u) && fuzz::same_time(t, u));
  }
  if (ts::parse_stored(in, t)) {
    std::string wire;
    FUZZ_CHECK(ts::append_stored_as_rfc3339(in, wire));
    ts::civil_time u;
    FUZZ_CHECK(ts::parse_rfc3339(wire, u) && fuzz::same_time(t, u));
    fuzz::check_stored_round_trip(ts::format_stored(t));
  } else {
    std::string wire;
    FUZZ_CHECK(!ts::append_stored_as_rfc3339(in, wire) && wire.empty());
  }
  return 0;
}
