// Strict, non-recursive JSON scanning and the string codec used on every append and read.
#include "storage/json_text.hpp"

#include <cstdint>
#include <cstring>

namespace ebuse::json {
namespace {

// Byte classes inside a string literal: 0 = plain byte copied as is, 1 = needs a look
// (quote, backslash, control character or start of a multi-byte sequence).
struct string_table {
  unsigned char special[256];
  constexpr string_table() : special{} {
    for (int c = 0; c < 0x20; ++c) special[c] = 1;
    special[static_cast<unsigned char>('"')] = 1;
    special[static_cast<unsigned char>('\\')] = 1;
    for (int c = 0x80; c < 0x100; ++c) special[c] = 1;
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

// Length of the well-formed UTF-8 sequence starting at p (lead byte >= 0x80), or 0.
std::size_t utf8_seq_len(const unsigned char* p, std::size_t avail) noexcept {
  const unsigned char c = p[0];
  unsigned char lo = 0x80, hi = 0xBF;  // the range allowed for the second byte
  std::size_t len;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;       // overlong
    else if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;       // overlong
    else if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (avail < len || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i < len; ++i)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return len;
}

std::string at_offset(std::string msg, std::size_t off) {
  msg += " at offset ";
  msg += std::to_string(off);
  return msg;
}

std::string describe_byte(unsigned char c) {
  if (c >= 0x20 && c < 0x7F) return std::string("invalid character '") + static_cast<char>(c) + "'";
  static const char hex[] = "0123456789abcdef";
  return std::string("invalid byte 0x") + hex[c >> 4] + hex[c & 0xF];
}

bool fail_eof(std::string& err) {
  err = "unexpected end of JSON input";
  return false;
}

bool fail_char(std::string_view in, std::size_t p, std::string& err) {
  err = at_offset(describe_byte(static_cast<unsigned char>(in[p])), p);
  return false;
}

std::size_t eof_npos(std::string& err) {
  fail_eof(err);
  return std::string_view::npos;
}

std::size_t char_npos(std::string_view in, std::size_t p, std::string& err) {
  fail_char(in, p, err);
  return std::string_view::npos;
}

// Scans the string literal whose opening quote is at `p`; returns one past the closing
// quote, or npos with `err` set. Any \uXXXX is accepted here, as Go's scanner does.
std::size_t scan_string(std::string_view in, std::size_t p, std::string& err) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  ++p;
  for (;;) {
    while (p < n && !str_tab.special[s[p]]) ++p;
    if (p >= n) return eof_npos(err);
    const unsigned char c = s[p];
    if (c == '"') return p + 1;
    if (c == '\\') {
      if (p + 1 >= n) return eof_npos(err);
      switch (s[p + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          p += 2;
          continue;
        case 'u':
          for (std::size_t i = 2; i < 6; ++i) {
            if (p + i >= n) return eof_npos(err);
            if (hex_val(s[p + i]) < 0) {
              err = at_offset("invalid \\u escape in string", p);
              return std::string_view::npos;
            }
          }
          p += 6;
          continue;
        default:
          err = at_offset("invalid escape in string", p);
          return std::string_view::npos;
      }
    }
    if (c < 0x20) {
      err = at_offset("invalid control character in string", p);
      return std::string_view::npos;
    }
    const std::size_t len = utf8_seq_len(s + p, n - p);
    if (len == 0) {
      err = at_offset("invalid UTF-8 in string", p);
      return std::string_view::npos;
    }
    p += len;
  }
}

// Returns one past the number starting at `p`, or npos with `err` set.
std::size_t scan_number(std::string_view in, std::size_t p, std::string& err) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  auto need_digit = [&](std::size_t q) -> bool {
    if (q >= n) return fail_eof(err);
    if (!is_digit(s[q])) return fail_char(in, q, err);
    return true;
  };
  if (s[p] == '-') ++p;
  if (!need_digit(p)) return std::string_view::npos;
  if (s[p] == '0') {
    ++p;  // a leading zero stands alone; "01" ends the number after the 0
  } else {
    while (p < n && is_digit(s[p])) ++p;
  }
  if (p < n && s[p] == '.') {
    if (!need_digit(++p)) return std::string_view::npos;
    while (p < n && is_digit(s[p])) ++p;
  }
  if (p < n && (s[p] == 'e' || s[p] == 'E')) {
    ++p;
    if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
    if (!need_digit(p)) return std::string_view::npos;
    while (p < n && is_digit(s[p])) ++p;
  }
  return p;
}

std::size_t scan_literal(std::string_view in, std::size_t p, std::string_view word,
                         std::string& err) {
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (p + i >= in.size()) return eof_npos(err);
    if (in[p + i] != word[i]) return char_npos(in, p + i, err);
  }
  return p + word.size();
}

void append_u4(std::string& out, uint32_t cp) {
  char buf[4];
  std::size_t len;
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    len = 1;
  } else if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    len = 2;
  } else if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    len = 3;
  } else {
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    len = 4;
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
  // One bit per open container (1 = object): max_depth bits fit in ~1.3 KB of stack,
  // so deep documents need neither recursion nor heap allocation.
  constexpr std::size_t words = (max_depth + 63) / 64;
  uint64_t stack[words];
  std::size_t depth = 0;
  auto top_is_object = [&]() { return (stack[(depth - 1) / 64] >> ((depth - 1) % 64)) & 1u; };
  auto push = [&](bool object) {
    const uint64_t bit = uint64_t{1} << (depth % 64);
    if (object) stack[depth / 64] |= bit;
    else stack[depth / 64] &= ~bit;
    ++depth;
  };

  const std::size_t n = in.size();
  std::size_t p = pos;
  std::size_t q;

value:
  if (p >= n) return fail_eof(err);
  switch (in[p]) {
    case '{':
    case '[': {
      const bool object = in[p] == '{';
      if (depth == max_depth) {
        err = at_offset("exceeded max nesting depth", p);
        return false;
      }
      push(object);
      p = skip_ws(in, p + 1);
      if (p < n && in[p] == (object ? '}' : ']')) {
        --depth;
        ++p;
        goto after_value;
      }
      if (object) goto key;
      goto value;
    }
    case '"': q = scan_string(in, p, err); break;
    case 't': q = scan_literal(in, p, "true", err); break;
    case 'f': q = scan_literal(in, p, "false", err); break;
    case 'n': q = scan_literal(in, p, "null", err); break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      q = scan_number(in, p, err);
      break;
    default:
      return fail_char(in, p, err);
  }
  if (q == std::string_view::npos) return false;
  p = q;

after_value:
  if (depth == 0) {
    end = p;
    return true;
  }
  p = skip_ws(in, p);
  if (p >= n) return fail_eof(err);
  if (in[p] == ',') {
    p = skip_ws(in, p + 1);
    if (top_is_object()) goto key;
    goto value;
  }
  if (in[p] == (top_is_object() ? '}' : ']')) {
    --depth;
    ++p;
    goto after_value;
  }
  return fail_char(in, p, err);

key:
  if (p >= n) return fail_eof(err);
  if (in[p] != '"') return fail_char(in, p, err);
  q = scan_string(in, p, err);
  if (q == std::string_view::npos) return false;
  p = skip_ws(in, q);
  if (p >= n) return fail_eof(err);
  if (in[p] != ':') return fail_char(in, p, err);
  p = skip_ws(in, p + 1);
  goto value;
}

bool validate(std::string_view in, std::string& err) {
  std::size_t p = skip_ws(in, 0);
  if (p >= in.size()) return fail_eof(err);
  std::size_t end = 0;
  if (!scan_value(in, p, end, err)) return false;
  p = skip_ws(in, end);
  if (p != in.size()) {
    err = at_offset(describe_byte(static_cast<unsigned char>(in[p])) + " after top-level value", p);
    return false;
  }
  return true;
}

// Lone or mismatched surrogate escapes decode to U+FFFD (EF BF BD), exactly as Go's
// encoding/json does, so stored data reads back the way the Go server returned it.
bool decode_string(std::string_view in, std::size_t pos, std::size_t& end, std::string& out,
                   std::string& err) {
  out.clear();
  if (pos >= in.size()) return fail_eof(err);
  if (in[pos] != '"') return fail_char(in, pos, err);
  const std::size_t close = scan_string(in, pos, err);
  if (close == std::string_view::npos) return false;

  // The literal is known to be well formed from here on, so only escapes need work.
  const std::size_t last = close - 1;
  std::size_t p = pos + 1;
  out.reserve(last - p);
  while (p < last) {
    std::size_t run = p;
    while (run < last && in[run] != '\\') ++run;
    out.append(in.data() + p, run - p);
    if (run >= last) break;
    p = run;
    const char e = in[p + 1];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = static_cast<uint32_t>(read_u4(in, p));
        if (cp >= 0xD800 && cp < 0xE000) {
          const int32_t lo = read_u4(in, p + 6);
          if (cp < 0xDC00 && lo >= 0xDC00 && lo < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
            p += 6;
          } else {
            cp = 0xFFFD;
          }
        }
        append_u4(out, cp);
        p += 6;
        continue;
      }
      default: out += e; break;  // '"', '\\' and '/' stand for themselves
    }
    p += 2;
  }
  end = close;
  return true;
}

void append_compact(std::string_view valid, std::string& out) {
  const char* s = valid.data();
  const std::size_t n = valid.size();
  out.reserve(out.size() + n);
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      for (++i; i < n; ++i) {
        if (s[i] == '\\') ++i;
        else if (s[i] == '"') break;
      }
      ++i;
    } else if (is_ws(c)) {
      out.append(s + run, i - run);
      while (i < n && is_ws(static_cast<unsigned char>(s[i]))) ++i;
      run = i;
    } else {
      ++i;
    }
  }
  if (run < n) out.append(s + run, n - run);
}

void append_quoted(std::string_view s, std::string& out) {
  static const char hex[] = "0123456789abcdef";
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.reserve(out.size() + n + 2);
  out += '"';
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = b[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const std::size_t len = utf8_seq_len(b + i, n - i);
      // U+2028/U+2029 break JavaScript string literals; invalid bytes become U+FFFD.
      const bool line_sep = len == 3 && c == 0xE2 && b[i + 1] == 0x80 && (b[i + 2] & 0xFE) == 0xA8;
      if (len != 0 && !line_sep) {
        i += len;
        continue;
      }
      out.append(s.data() + run, i - run);
      if (line_sep) {
        out += b[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
        i += 3;
      } else {
        out += "\\ufffd";
        ++i;
      }
      run = i;
      continue;
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out.append(esc, 6);
      }
    }
    run = ++i;
  }
  out.append(s.data() + run, n - run);
  out += '"';
}

bool valid_utf8(std::string_view s) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII dominates real payloads; check eight bytes per step while it lasts.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, b + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (b[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_seq_len(b + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace ebuse::json
