// Writing JSON text: compaction of stored values, Go-style string quoting, UTF-8 checks.
#include "core/json_text.hpp"

#include <cstdint>
#include <cstring>

#include "core/utf8.hpp"

namespace ebuse::json {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

constexpr bool is_ws(unsigned char c) noexcept {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

// Go's HTML-safe escapes for ASCII (encoding/json since Go 1.22 writes \b and \f by
// name); an empty entry means the byte is written as is.
struct quote_table {
  char esc[128][7];
  constexpr quote_table() : esc{} {
    for (int c = 0; c < 128; ++c) {
      if (c >= 0x20 && c != '<' && c != '>' && c != '&') continue;
      const char u[6] = {'\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF]};
      for (int i = 0; i < 6; ++i) esc[c][i] = u[i];
    }
    const char named[][2] = {{'"', '"'}, {'\\', '\\'}, {'\n', 'n'}, {'\r', 'r'}, {'\t', 't'},
                              {'\b', 'b'}, {'\f', 'f'}};
    for (const auto& e : named) {
      char* d = esc[static_cast<unsigned char>(e[0])];
      d[0] = '\\';
      d[1] = e[1];
      d[2] = '\0';
    }
  }
};
constexpr quote_table quote_tab{};

}  // namespace

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
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  out.reserve(out.size() + n + 2);
  out += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = b[i];
    const char* esc;
    std::size_t len = 1;
    if (c < 0x80) {
      esc = quote_tab.esc[c];
      if (!*esc) {
        ++i;
        continue;
      }
    } else {
      len = utf8_seq_len(b + i, n - i);
      // U+2028/U+2029 end lines in JavaScript; bytes that are not UTF-8 become U+FFFD.
      if (len == 3 && c == 0xE2 && b[i + 1] == 0x80 && (b[i + 2] & 0xFE) == 0xA8) {
        esc = b[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
      } else if (len == 0) {
        esc = "\\ufffd";
        len = 1;
      } else {
        i += len;
        continue;
      }
    }
    out.append(s.data() + run, i - run);
    out += esc;
    i += len;
    run = i;
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
    const std::size_t len = b[i] < 0x80 ? 1 : utf8_seq_len(b + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace ebuse::json
