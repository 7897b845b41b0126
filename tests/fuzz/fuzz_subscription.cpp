// Fuzzes subscription ids (from the URL-decoded path) and `{"position":N}` bodies.
// The first input byte selects the parser.
#include "fuzz_check.hpp"
#include "http/codec.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto in = fuzz::as_text(data + 1, size - 1);
  if (data[0] & 1) {
    auto pos = parse_position_body(in);
    FUZZ_CHECK(!pos || *pos >= 0);
    return 0;
  }
  if (check_subscription_id(in))
    return 0;
  FUZZ_CHECK(!in.empty() && in.size() <= max_subscription_id_bytes && in != "." && in != "..");
  FUZZ_CHECK(json::valid_utf8(in));
  for (unsigned char c : in)
    FUZZ_CHECK(c != '/' && c >= 0x20 && c != 0x7f);
  // An accepted id is safe to echo in JSON.
  std::string quoted;
  json::append_quoted(in, quoted);
  fuzz::check_json(quoted);
  return 0;
}
