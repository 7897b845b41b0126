// Unit tests for strict JSON validation, depth limits and raw-span scanning.
#include "core/json_text.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::string_literals;
namespace json = ebuse::json;

namespace {

// The validation error for `in`, or "" when it is valid.
std::string error_of(std::string_view in) {
  std::string err;
  if (json::validate(in, err)) return "";
  CHECK_FALSE(err.empty());
  return err;
}

bool ok(std::string_view in) { return error_of(in).empty(); }

}  // namespace

TEST_CASE("skip_ws skips only JSON whitespace", "[json]") {
  CHECK(json::skip_ws(" \t\r\n x", 0) == 5);
  CHECK(json::skip_ws("x  ", 0) == 0);
  CHECK(json::skip_ws("x  ", 1) == 3);
  CHECK(json::skip_ws("\v1", 0) == 0);  // vertical tab is not JSON whitespace
  CHECK(json::skip_ws("\f1", 0) == 0);
  CHECK(json::skip_ws("", 0) == 0);
}

TEST_CASE("validate accepts well-formed values", "[json]") {
  for (const char* v : {"null", "true", "false", "0", "-0", "1", "-1", "10", "1.5", "-0.0",
                        "1e5", "1E+2", "1e-7", "0.1e10", "123456789012345678901234567890",
                        "\"\"", "\"abc\"", "[]", "{}", "[1,2,3]", "{\"a\":1,\"b\":[true,null]}",
                        " \t\r\n[ 1 , { \"k\" : \"v\" } ]\n ", "[[[]]]", "{\"\":{}}",
                        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"",
                        "\"\\ud800\"",  // lone surrogate escapes are syntactically fine
                        "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\"",
                        "\"\xEE\x80\x80\xED\x9F\xBF\""}) {
    INFO(v);
    CHECK(error_of(v) == "");
  }
}

TEST_CASE("validate rejects malformed numbers", "[json]") {
  for (const char* v : {"01", "-01", "00", "1.", "1.e5", ".5", "+1", "-", "--1", "1e", "1e+",
                        "1E-", "0x10", "1.5.5", "NaN", "Infinity", "-Infinity", "1_000",
                        "[01]", "[1.]", "{\"a\":-}"}) {
    INFO(v);
    CHECK_FALSE(ok(v));
  }
  CHECK(error_of("01") == "invalid character '1' after top-level value at offset 1");
  CHECK(error_of("1.") == "unexpected end of JSON input");
  CHECK(error_of("1.x") == "invalid character 'x' at offset 2");
  CHECK(error_of(".5") == "invalid character '.' at offset 0");
  CHECK(error_of("+1") == "invalid character '+' at offset 0");
  CHECK(error_of("-") == "unexpected end of JSON input");
  CHECK(error_of("-a") == "invalid character 'a' at offset 1");
  CHECK(error_of("NaN") == "invalid character 'N' at offset 0");
  CHECK(error_of("[01]") == "invalid character '1' at offset 2");
}

TEST_CASE("validate rejects malformed structure", "[json]") {
  CHECK(error_of("") == "unexpected end of JSON input");
  CHECK(error_of(" \n\t ") == "unexpected end of JSON input");
  CHECK(error_of("[") == "unexpected end of JSON input");
  CHECK(error_of("[1,") == "unexpected end of JSON input");
  CHECK(error_of("{\"a\"") == "unexpected end of JSON input");
  CHECK(error_of("{\"a\":") == "unexpected end of JSON input");
  CHECK(error_of("tru") == "unexpected end of JSON input");
  CHECK(error_of("trUe") == "invalid character 'U' at offset 2");
  CHECK(error_of("nul") == "unexpected end of JSON input");
  CHECK(error_of("[1,]") == "invalid character ']' at offset 3");
  CHECK(error_of("[1 2]") == "invalid character '2' at offset 3");
  CHECK(error_of("{\"a\":1,}") == "invalid character '}' at offset 7");
  CHECK(error_of("{a:1}") == "invalid character 'a' at offset 1");
  CHECK(error_of("{\"a\" 1}") == "invalid character '1' at offset 5");
  CHECK(error_of("{\"a\":1]") == "invalid character ']' at offset 6");
  CHECK(error_of("[1}") == "invalid character '}' at offset 2");
  CHECK(error_of("[,1]") == "invalid character ',' at offset 1");
  CHECK(error_of("'a'") == "invalid character ''' at offset 0");
  CHECK(error_of("1 2") == "invalid character '2' after top-level value at offset 2");
  CHECK(error_of("{} x") == "invalid character 'x' after top-level value at offset 3");
  CHECK(error_of("null\x01") == "invalid byte 0x01 after top-level value at offset 4");
  CHECK(error_of("\x80") == "invalid byte 0x80 at offset 0");
  CHECK(error_of("{\"a\":1}}") == "invalid character '}' after top-level value at offset 7");
}

TEST_CASE("validate rejects bad strings", "[json]") {
  CHECK(error_of("\"abc") == "unexpected end of JSON input");
  CHECK(error_of("\"abc\\") == "unexpected end of JSON input");
  CHECK(error_of("\"\\u12") == "unexpected end of JSON input");
  CHECK(error_of("\"a\\x\"") == "invalid escape in string at offset 2");
  CHECK(error_of("\"\\'\"") == "invalid escape in string at offset 1");
  CHECK(error_of("\"\\u12G4\"") == "invalid \\u escape in string at offset 1");
  CHECK(error_of("\"\\U1234\"") == "invalid escape in string at offset 1");
  CHECK(error_of("\"a\tb\"") == "invalid control character in string at offset 2");
  CHECK(error_of("\"a\nb\"") == "invalid control character in string at offset 2");
  CHECK(error_of("\"\x1f\"") == "invalid control character in string at offset 1");
  CHECK(error_of("\"\0\""s) == "invalid control character in string at offset 1");
  CHECK(ok("\"\x7f\""));  // DEL is not a control character for JSON
}

TEST_CASE("validate rejects invalid UTF-8 inside strings", "[json][utf8]") {
  const char* bad[] = {
      "\"\xC0\x80\"",          // overlong NUL
      "\"\xC1\xBF\"",          // overlong two-byte
      "\"\xE0\x80\xAF\"",      // overlong three-byte
      "\"\xE0\x9F\xBF\"",      // overlong three-byte, top of range
      "\"\xF0\x8F\xBF\xBF\"",  // overlong four-byte
      "\"\xED\xA0\x80\"",      // U+D800
      "\"\xED\xBF\xBF\"",      // U+DFFF
      "\"\xED\xA0\xBD\xED\xB8\x80\"",  // CESU-8 surrogate pair
      "\"\xF4\x90\x80\x80\"",  // U+110000
      "\"\xF5\x80\x80\x80\"",  // lead byte beyond U+10FFFF
      "\"\xFF\"", "\"\xFE\"",
      "\"\x80\"",              // lone continuation
      "\"\xC3\"",              // truncated before the quote
      "\"\xE2\x82\"",          // truncated three-byte
      "\"\xF0\x9F\x98\"",      // truncated four-byte
      "\"\xC3\x28\"",          // bad continuation
      "\"\xE2\x28\xA1\"",
  };
  for (const char* v : bad) {
    INFO(v);
    CHECK(error_of(v) == "invalid UTF-8 in string at offset 1");
  }
  CHECK(error_of("{\"ok\":\"ab\xE2\x82\"}") == "invalid UTF-8 in string at offset 9");
  CHECK(error_of("\"\xE2\x82") == "invalid UTF-8 in string at offset 1");
}

TEST_CASE("scan_value reports the raw span of one value", "[json]") {
  std::string err;
  std::size_t end = 0;
  SECTION("stops after the value and ignores what follows") {
    CHECK(json::scan_value("[1, 2] trailing", 0, end, err));
    CHECK(end == 6);
    CHECK(json::scan_value("{\"a\":{\"b\":1}},", 0, end, err));
    CHECK(end == 13);
    CHECK(json::scan_value("123abc", 0, end, err));
    CHECK(end == 3);
    CHECK(json::scan_value("01", 0, end, err));
    CHECK(end == 1);
    CHECK(json::scan_value("truex", 0, end, err));
    CHECK(end == 4);
  }
  SECTION("starts at pos without skipping whitespace") {
    const std::string_view doc = "{\"data\": \"x y\" , \"n\":-2.5e3}";
    CHECK(json::scan_value(doc, 9, end, err));
    CHECK(doc.substr(9, end - 9) == "\"x y\"");
    CHECK(json::scan_value(doc, 21, end, err));
    CHECK(doc.substr(21, end - 21) == "-2.5e3");
    CHECK_FALSE(json::scan_value(doc, 8, end, err));
    CHECK(err == "invalid character ' ' at offset 8");
  }
  SECTION("error offsets are absolute") {
    CHECK_FALSE(json::scan_value("xxxx[1,\x01]", 4, end, err));
    CHECK(err == "invalid byte 0x01 at offset 7");
    CHECK_FALSE(json::scan_value("ab", 2, end, err));
    CHECK(err == "unexpected end of JSON input");
  }
}

TEST_CASE("nesting depth is limited without recursion", "[json][depth]") {
  auto nested = [](std::size_t depth, char open, char close) {
    return std::string(depth, open) + std::string(depth, close);
  };
  CHECK(ok(nested(json::max_depth, '[', ']')));
  CHECK(error_of(nested(json::max_depth + 1, '[', ']')) ==
        "exceeded max nesting depth at offset 10000");

  std::string objects;
  for (std::size_t i = 0; i < json::max_depth; ++i) objects += "{\"a\":";
  objects += "1";
  objects += std::string(json::max_depth, '}');
  CHECK(ok(objects));
  CHECK_FALSE(ok("{\"a\":" + objects + "}"));

  // Far deeper than any native stack would survive if the scanner recursed.
  CHECK(error_of(std::string(1000000, '[')) == "exceeded max nesting depth at offset 10000");
  CHECK(error_of(std::string(json::max_depth, '[')) == "unexpected end of JSON input");

  // Alternating containers must each close with their own bracket.
  std::string mixed;
  for (std::size_t i = 0; i < 200; ++i) mixed += i % 2 ? "{\"k\":" : "[";
  mixed += "0";
  for (std::size_t i = 200; i-- > 0;) mixed += i % 2 ? "}" : "]";
  CHECK(ok(mixed));
  std::string wrong = mixed;
  wrong[wrong.size() - 2] = ']';  // closes an object with ']'
  CHECK_FALSE(ok(wrong));

  // Container kinds straddling 64-bit word boundaries of the depth stack.
  auto build = [](const std::string& kinds) {
    std::string doc;
    for (char k : kinds) doc += k == 'o' ? "{\"k\":" : "[";
    doc += "0";
    for (auto it = kinds.rbegin(); it != kinds.rend(); ++it) doc += *it == 'o' ? "}" : "]";
    return doc;
  };
  for (std::size_t at : {0, 62, 63, 64, 65, 127, 128, 9999}) {
    INFO(at);
    std::string kinds(10000, 'a');
    kinds[at] = 'o';
    std::string doc = build(kinds);
    CHECK(ok(doc));
    const std::size_t close = doc.size() - 1 - at;
    REQUIRE(doc[close] == '}');
    doc[close] = ']';
    CHECK(error_of(doc) == "invalid character ']' at offset " + std::to_string(close));
    kinds.assign(10000, 'o');
    kinds[at] = 'a';
    CHECK(ok(build(kinds)));
  }
}
