// Fuzzes the query parameters of GET /events and /events/stream.
#include "core/decimal.hpp"
#include "fuzz_check.hpp"
#include "http/codec.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::as_text(data, size);
  for (bool minus_one : {false, true}) {
    auto v = parse_position_param("from", in, minus_one);
    if (v) {
      FUZZ_CHECK(*v >= 0 || (minus_one && *v == -1));
      FUZZ_CHECK(!in.empty());
    }
  }
  auto b = stream_batch_size(in);
  FUZZ_CHECK(b >= 1 && b <= 5000);
  int64_t x;
  if (parse_int64(in, x)) {
    // The decimal form of the value is the input without a '+' sign or leading zeros.
    auto digits = std::to_string(x);
    FUZZ_CHECK(digits.size() <= in.size());
  }
  return 0;
}
