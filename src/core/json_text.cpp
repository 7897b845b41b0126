// Strict, non-recursive JSON scanning and the string codec used on every append and read.
#include "core/json_text.hpp"
#include "core/utf8.hpp"

#include <cstdint>
#include <cstring>
#include <utility>

namespace ebuse::json {
namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr char hex_digits[] = "0123456789abcdef";

// Bytes that end the fast copy loop inside a string literal: quote, backslash,
// control characters and every byte of a multi-byte UTF-8 sequence.
struct string_table {
  bool special[256];
  constexpr string_table() : special{} {
    for (int c = 0; c < 256; ++c) special[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
  }
};
constexpr string_table str_tab{};

constexpr bool is_ws(unsigned char c) noexcept {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}
constexpr bool is_digit(unsigned char c) noexcept { return c >= '0' && c <= '9'; }

int hex_val(unsigned char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Error helpers set `err` and return npos so scanners can `return` them directly.
std::size_t fail_at(std::string& err, std::string msg, std::size_t off) {
  err = std::move(msg) + " at offset " + std::to_string(off);
  return npos;
}

std::size_t fail_eof(std::string& err) {
  err = "unexpected end of JSON input";
  return npos;
}

std::size_t fail_char(std::string_view in, std::size_t p, std::string& err,
                      const char* where = "") {
  const auto c = static_cast<unsigned char>(in[p]);
  std::string msg = c >= 0x20 && c < 0x7F
                        ? std::string("invalid character '") + static_cast<char>(c) + "'"
                        : std::string("invalid byte 0x") + hex_digits[c >> 4] + hex_digits[c & 0xF];
  return fail_at(err, msg + where, p);
}

// Scans the string literal whose opening quote is at `p`; returns one past the closing
// quote. Any \uXXXX is accepted here, as Go's scanner does.
std::size_t scan_string(std::string_view in, std::size_t p, std::string& err) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  ++p;
  for (;;) {
    while (p < n && !str_tab.special[s[p]]) ++p;
    if (p >= n) return fail_eof(err);
    const unsigned char c = s[p];
    if (c == '"') return p + 1;
    if (c == '\\') {
      if (p + 1 >= n) return fail_eof(err);
      switch (s[p + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          p += 2;
          continue;
        case 'u':
          for (std::size_t i = 2; i < 6; ++i) {
            if (p + i >= n) return fail_eof(err);
            if (hex_val(s[p + i]) < 0) return fail_at(err, "invalid \\u escape in string", p);
          }
          p += 6;
          continue;
        default:
          return fail_at(err, "invalid escape in string", p);
      }
    }
    if (c < 0x20) return fail_at(err, "invalid control character in string", p);
    const std::size_t len = utf8_seq_len(s + p, n - p);
    if (len == 0) return fail_at(err, "invalid UTF-8 in string", p);
    p += len;
  }
}

std::size_t scan_number(std::string_view in, std::size_t p, std::string& err) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  // Each part that must start with a digit goes through here, then takes all digits.
  auto digits = [&](std::size_t q) -> std::size_t {
    if (q >= n) return fail_eof(err);
    if (!is_digit(s[q])) return fail_char(in, q, err);
    while (q < n && is_digit(s[q])) ++q;
    return q;
  };
  if (s[p] == '-') ++p;
  if (p < n && s[p] == '0') ++p;  // a leading zero stands alone: "01" ends after the 0
  else if ((p = digits(p)) == npos) return npos;
  if (p < n && s[p] == '.' && (p = digits(p + 1)) == npos) return npos;
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
    p = digits(p);
  }
  return p;
}

std::size_t scan_literal(std::string_view in, std::size_t p, std::string_view word,
                         std::string& err) {
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (p + i >= in.size()) return fail_eof(err);
    if (in[p + i] != word[i]) return fail_char(in, p + i, err);
  }
  return p + word.size();
}

// Scans `"name" :` and the whitespace after it; returns where the member's value starts.
std::size_t scan_key(std::string_view in, std::size_t p, std::string& err) {
  if (p >= in.size()) return fail_eof(err);
  if (in[p] != '"') return fail_char(in, p, err);
  if ((p = scan_string(in, p, err)) == npos) return npos;
  p = skip_ws(in, p);
  if (p >= in.size()) return fail_eof(err);
  if (in[p] != ':') return fail_char(in, p, err);
  return skip_ws(in, p + 1);
}

// The nesting stack holds one bit per open container (1 = object): max_depth bits fit
// in ~1.3 KB of the caller's stack, so deep input needs neither recursion nor the heap.
std::size_t scan(std::string_view in, std::size_t p, std::string& err) {
  uint64_t stack[(max_depth + 63) / 64];
  std::size_t depth = 0;
  auto in_object = [&] { return (stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1u; };
  const std::size_t n = in.size();
  for (;;) {  // each pass starts at a value
    if (p >= n) return fail_eof(err);
    const char c = in[p];
    if (c == '{' || c == '[') {
      if (depth == max_depth) return fail_at(err, "exceeded max nesting depth", p);
      const uint64_t bit = uint64_t{1} << (depth % 64);
      stack[depth / 64] = c == '{' ? stack[depth / 64] | bit : stack[depth / 64] & ~bit;
      ++depth;
      p = skip_ws(in, p + 1);
      if (p >= n || in[p] != (c == '{' ? '}' : ']')) {
        if (c == '{' && (p = scan_key(in, p, err)) == npos) return npos;
        continue;
      }
      --depth;  // empty container
      ++p;
    } else {
      switch (c) {
        case '"': p = scan_string(in, p, err); break;
        case 't': p = scan_literal(in, p, "true", err); break;
        case 'f': p = scan_literal(in, p, "false", err); break;
        case 'n': p = scan_literal(in, p, "null", err); break;
        default:
          if (c != '-' && !is_digit(static_cast<unsigned char>(c))) return fail_char(in, p, err);
          p = scan_number(in, p, err);
      }
      if (p == npos) return npos;
    }
    // After a value: close finished containers until a ',' leads to the next value.
    for (;;) {
      if (depth == 0) return p;
      p = skip_ws(in, p);
      if (p >= n) return fail_eof(err);
      const bool object = in_object();
      if (in[p] == ',') {
        p = skip_ws(in, p + 1);
        if (object && (p = scan_key(in, p, err)) == npos) return npos;
        break;
      }
      if (in[p] != (object ? '}' : ']')) return fail_char(in, p, err);
      --depth;
      ++p;
    }
  }
}

void append_utf8(std::string& out, uint32_t cp) {
  char buf[4];
  std::size_t len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  if (len == 1) {
    buf[0] = static_cast<char>(cp);
  } else {
    for (std::size_t i = len - 1; i > 0; --i, cp >>= 6)
      buf[i] = static_cast<char>(0x80 | (cp & 0x3F));
    static constexpr unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    buf[0] = static_cast<char>(lead[len] | cp);
  }
  out.append(buf, len);
}

// Reads the four hex digits of a \u escape at in[p] == '\\'; -1 if there is none.
int32_t read_u4(std::string_view in, std::size_t p) noexcept {
  if (p + 6 > in.size() || in[p] != '\\' || in[p + 1] != 'u') return -1;
  int32_t v = 0;
  for (std::size_t i = 2; i < 6; ++i) {
    const int h = hex_val(static_cast<unsigned char>(in[p + i]));
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

}  // namespace

std::size_t skip_ws(std::string_view in, std::size_t pos) noexcept {
  while (pos < in.size() && is_ws(static_cast<unsigned char>(in[pos]))) ++pos;
  return pos;
}

bool scan_value(std::string_view in, std::size_t pos, std::size_t& end, std::string& err) {
  const std::size_t q = scan(in, pos, err);
  if (q == npos) return false;
  end = q;
  return true;
}

bool validate(std::string_view in, std::string& err) {
  std::size_t p = skip_ws(in, 0);
  p = p < in.size() ? scan(in, p, err) : fail_eof(err);
  if (p == npos) return false;
  p = skip_ws(in, p);
  if (p == in.size()) return true;
  fail_char(in, p, err, " after top-level value");
  return false;
}

// Lone or mismatched surrogate escapes decode to U+FFFD (EF BF BD), exactly as Go's
// encoding/json does, so stored data reads back the way the Go server returned it.
bool decode_string(std::string_view in, std::size_t pos, std::size_t& end, std::string& out,
                   std::string& err) {
  out.clear();
  const std::size_t close = pos >= in.size() ? fail_eof(err)
                            : in[pos] != '"' ? fail_char(in, pos, err)
                                             : scan_string(in, pos, err);
  if (close == npos) return false;

  // The literal is known to be well formed from here on, so only escapes need work.
  const std::size_t last = close - 1;
  std::size_t p = pos + 1;
  out.reserve(last - p);
  while (p < last) {
    const auto* bs = static_cast<const char*>(std::memchr(in.data() + p, '\\', last - p));
    const std::size_t esc = bs ? static_cast<std::size_t>(bs - in.data()) : last;
    out.append(in.data() + p, esc - p);
    if (esc == last) break;
    p = esc;
    const char e = in[p + 1];
    if (e != 'u') {
      static constexpr char names[] = "bfnrt", values[] = "\b\f\n\r\t";
      const void* hit = std::memchr(names, e, 5);
      // '"', '\\' and '/' stand for themselves.
      out += hit ? values[static_cast<const char*>(hit) - names] : e;
      p += 2;
      continue;
    }
    auto cp = static_cast<uint32_t>(read_u4(in, p));
    p += 6;
    if (cp >= 0xD800 && cp < 0xE000) {
      const int32_t lo = read_u4(in, p);
      if (cp < 0xDC00 && lo >= 0xDC00 && lo < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
        p += 6;
      } else {
        cp = 0xFFFD;
      }
    }
    append_utf8(out, cp);
  }
  end = close;
  return true;
}


}  // namespace ebuse::json
