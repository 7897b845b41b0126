// Offset text: two zero-padded 16-digit numbers, so that text order is position order.
#include "streams/offset.hpp"

namespace ebuse::streams {

namespace {

void append_padded(int64_t v, std::string& out) {
  char buf[16];
  for (int i = 15; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, 16);
}

bool parse_digits(std::string_view text, int64_t& out) noexcept {
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

} // namespace

std::string format_offset(offset o) {
  std::string out;
  out.reserve(offset_text_size);
  append_padded(o.seq, out);
  out.push_back('_');
  append_padded(o.bytes, out);
  return out;
}

bool parse_exact_offset(std::string_view text, offset& out) noexcept {
  if (text.size() != offset_text_size || text[16] != '_')
    return false;
  offset o;
  if (!parse_digits(text.substr(0, 16), o.seq) || !parse_digits(text.substr(17), o.bytes))
    return false;
  out = o;
  return true;
}

offset_spec parse_offset(std::string_view text) noexcept {
  offset_spec spec;
  if (text == "-1") {
    spec.kind = offset_kind::start;
  } else if (text == "now") {
    spec.kind = offset_kind::now;
  } else if (parse_exact_offset(text, spec.at)) {
    spec.kind = offset_kind::at;
  } else {
    spec.kind = offset_kind::malformed;
  }
  return spec;
}

} // namespace ebuse::streams
