// Unit tests for the JSON string codec, compaction and UTF-8 checks.
#include "core/event_json.hpp"
#include "core/json_text.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace std::string_literals;
namespace json = ebuse::json;

namespace {

std::string decoded(std::string_view literal) {
  std::string out, err;
  std::size_t end = 0;
  REQUIRE(json::decode_string(literal, 0, end, out, err));
  CHECK(end == literal.size());
  return out;
}

std::string decode_error(std::string_view literal) {
  std::string out, err;
  std::size_t end = 0;
  CHECK_FALSE(json::decode_string(literal, 0, end, out, err));
  return err;
}

std::string quoted(std::string_view s) {
  std::string out;
  json::append_quoted(s, out);
  return out;
}

std::string compact(std::string_view s) {
  std::string out;
  json::append_compact(s, out);
  return out;
}

}  // namespace

TEST_CASE("decode_string resolves escapes", "[json][decode]") {
  CHECK(decoded(R"("")") == "");
  CHECK(decoded(R"("plain text")") == "plain text");
  CHECK(decoded(R"("\"\\\/\b\f\n\r\t")") == "\"\\/\b\f\n\r\t");
  CHECK(decoded(R"("\u0041\u00e9\u00E9\u20ac")") == "A\xC3\xA9\xC3\xA9\xE2\x82\xAC");
  CHECK(decoded(R"("\u0000")") == "\0"s);
  CHECK(decoded(R"("a\u0000b")") == "a\0b"s);
  CHECK(decoded(R"("\uD83D\uDE00")") == "\xF0\x9F\x98\x80");
  CHECK(decoded(R"("\udbff\udfff")") == "\xF4\x8F\xBF\xBF");
  CHECK(decoded("\"raw \xE2\x82\xAC \xF0\x9F\x98\x80\"") == "raw \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(decoded(R"("x\ny\\")") == "x\ny\\");
}

TEST_CASE("decode_string replaces lone surrogates with U+FFFD like Go", "[json][decode]") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(decoded(R"("\ud800")") == fffd);
  CHECK(decoded(R"("\udc00")") == fffd);
  CHECK(decoded(R"("a\ud800b")") == "a" + fffd + "b");
  CHECK(decoded(R"("\ud800\n")") == fffd + "\n");
  CHECK(decoded(R"("\ude00\ud83d")") == fffd + fffd);  // reversed pair
  CHECK(decoded(R"("\ud800\u0041")") == fffd + "A");
  // A high surrogate followed by a complete pair: only the first is lone.
  CHECK(decoded(R"("\ud800\ud83d\ude00")") == fffd + "\xF0\x9F\x98\x80");
}

TEST_CASE("decode_string reports position and errors", "[json][decode]") {
  std::string out = "stale", err;
  std::size_t end = 0;
  const std::string_view doc = R"({"k": "v\"w", "n": 1})";
  REQUIRE(json::decode_string(doc, 1, end, out, err));
  CHECK(out == "k");
  CHECK(end == 4);
  REQUIRE(json::decode_string(doc, 6, end, out, err));
  CHECK(out == "v\"w");
  CHECK(doc.substr(end) == ", \"n\": 1}");

  CHECK(decode_error("abc") == "invalid character 'a' at offset 0");
  CHECK(decode_error("") == "unexpected end of JSON input");
  CHECK(decode_error("\"abc") == "unexpected end of JSON input");
  CHECK(decode_error("\"\\q\"") == "invalid escape in string at offset 1");
  CHECK(decode_error("\"\\u00g0\"") == "invalid \\u escape in string at offset 1");
  CHECK(decode_error("\"a\x01\"") == "invalid control character in string at offset 2");
  CHECK(decode_error("\"\xED\xA0\x80\"") == "invalid UTF-8 in string at offset 1");
  CHECK(decode_error("\"\xC0\xAF\"") == "invalid UTF-8 in string at offset 1");
  CHECK(decode_error("\"ok\xF4\x90\x80\x80\"") == "invalid UTF-8 in string at offset 3");
}

TEST_CASE("append_compact drops only insignificant whitespace", "[json][compact]") {
  CHECK(compact("  { \"b\" : 1 ,\n\t\"a\" : [ 1 , 2 ] }\r\n") == R"({"b":1,"a":[1,2]})");
  CHECK(compact("[1.10, 1E+2, -0.0, 123456789012345678901234567890, 1e-07]") ==
        "[1.10,1E+2,-0.0,123456789012345678901234567890,1e-07]");
  CHECK(compact("{\"z\": 1, \"a\": 2, \"z\": 3}") == R"({"z":1,"a":2,"z":3})");
  CHECK(compact("\" keep  these \\t spaces \"") == "\" keep  these \\t spaces \"");
  CHECK(compact("[\"a \\\" b\" , \"c\\\\\" , \" d \"]") == "[\"a \\\" b\",\"c\\\\\",\" d \"]");
  CHECK(compact("{\"\\u0020 \": \" \\u00e9 \"}") == "{\"\\u0020 \":\" \\u00e9 \"}");
  CHECK(compact("[ true , false , null ]") == "[true,false,null]");
  CHECK(compact("42") == "42");
  CHECK(compact("\"\xE2\x80\xA8 \"") == "\"\xE2\x80\xA8 \"");

  std::string out = "prefix:";
  json::append_compact(" [ 1 ] ", out);
  CHECK(out == "prefix:[1]");
}

TEST_CASE("append_quoted escapes like Go's encoding/json", "[json][quote]") {
  CHECK(quoted("") == R"("")");
  CHECK(quoted("hello world") == R"("hello world")");
  CHECK(quoted("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(quoted("\n\r\t") == R"("\n\r\t")");
  CHECK(quoted("\b\f") == R"("\b\f")");
  CHECK(quoted("\0\x01\x1f"s) == R"("\u0000\u0001\u001f")");
  CHECK(quoted("\x7f") == "\"\x7f\"");
  CHECK(quoted("<script>&amp;</script>") ==
        R"("\u003cscript\u003e\u0026amp;\u003c/script\u003e")");
  CHECK(quoted("a\xE2\x80\xA8" "b\xE2\x80\xA9" "c") == R"("a\u2028b\u2029c")");
  CHECK(quoted("\xE2\x80\xA7\xE2\x80\xAA") == "\"\xE2\x80\xA7\xE2\x80\xAA\"");  // neighbours
  const std::string multi = "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  CHECK(quoted(multi) == "\"" + multi + "\"");
  CHECK(quoted("'single'") == R"("'single'")");
  // Bytes that are not UTF-8 become the escaped replacement character, as in Go.
  CHECK(quoted("a\xFF" "b") == R"("a\ufffdb")");
  CHECK(quoted("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");
  CHECK(quoted("\xE2\x82") == R"("\ufffd\ufffd")");

  std::string out = "[";
  json::append_quoted("x", out);
  CHECK(out == "[\"x\"");
}

TEST_CASE("append_quoted output is valid JSON that decodes back", "[json][quote]") {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii += static_cast<char>(c);
  for (const std::string& s :
       {all_ascii, "mixed \xC3\xA9 \xE2\x80\xA8 <&> \xF0\x9F\x98\x80 \"q\""s, ""s}) {
    const std::string q = quoted(s);
    std::string err;
    CHECK(json::validate(q, err));
    CHECK(decoded(q) == s);
  }
}

TEST_CASE("valid_utf8 accepts exactly well-formed UTF-8", "[json][utf8]") {
  CHECK(json::valid_utf8(""));
  CHECK(json::valid_utf8("plain ascii that is longer than eight bytes"));
  CHECK(json::valid_utf8("\0"s));
  CHECK(json::valid_utf8("\x7f"));
  CHECK(json::valid_utf8("\xC2\x80"));          // U+0080
  CHECK(json::valid_utf8("\xDF\xBF"));          // U+07FF
  CHECK(json::valid_utf8("\xE0\xA0\x80"));      // U+0800
  CHECK(json::valid_utf8("\xED\x9F\xBF"));      // U+D7FF
  CHECK(json::valid_utf8("\xEE\x80\x80"));      // U+E000
  CHECK(json::valid_utf8("\xEF\xBF\xBF"));      // U+FFFF
  CHECK(json::valid_utf8("\xF0\x90\x80\x80"));  // U+10000
  CHECK(json::valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  CHECK(json::valid_utf8("12345678\xC3\xA9" "abcdefgh\xF0\x9F\x98\x80"));

  CHECK_FALSE(json::valid_utf8("\x80"));
  CHECK_FALSE(json::valid_utf8("\xBF"));
  CHECK_FALSE(json::valid_utf8("\xC0\x80"));
  CHECK_FALSE(json::valid_utf8("\xC1\xBF"));
  CHECK_FALSE(json::valid_utf8("\xE0\x9F\xBF"));
  CHECK_FALSE(json::valid_utf8("\xED\xA0\x80"));
  CHECK_FALSE(json::valid_utf8("\xED\xBF\xBF"));
  CHECK_FALSE(json::valid_utf8("\xF0\x8F\xBF\xBF"));
  CHECK_FALSE(json::valid_utf8("\xF4\x90\x80\x80"));
  CHECK_FALSE(json::valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(json::valid_utf8("\xF8\x88\x80\x80\x80"));
  CHECK_FALSE(json::valid_utf8("\xFE"));
  CHECK_FALSE(json::valid_utf8("\xFF"));
  CHECK_FALSE(json::valid_utf8("\xC3"));
  CHECK_FALSE(json::valid_utf8("abc\xE2\x82"));
  CHECK_FALSE(json::valid_utf8("\xF0\x9F\x98"));
  CHECK_FALSE(json::valid_utf8("\xC3\x28"));
  CHECK_FALSE(json::valid_utf8("\xE2\x28\xA1"));
  CHECK_FALSE(json::valid_utf8("12345678abcdefgh\x80"));
  CHECK_FALSE(json::valid_utf8("1234567\xC3"));  // truncated at the end of a word
}

TEST_CASE("append_event_json renders an event as the original does", "[json][event]") {
  auto render = [](std::string_view type, std::string_view data, std::string_view ts) {
    std::string out = "[";
    ebuse::append_event_json(out, 42, type, data, ts);
    return out;
  };
  CHECK(render("order.created", R"({"a":1})", "2024-05-06 07:08:09.5+00:00")
        == R"([{"position":42,"type":"order.created","data":{"a":1},)"
           R"("timestamp":"2024-05-06T07:08:09.5Z"})");
  // Types that need escaping take the quoting path; the result is the same as quoting.
  for (std::string type : {"a\"b"s, "x<y>&z"s, "tab\there"s, "caf\xc3\xa9"s, "back\\slash"s,
                           std::string(200, 't'), ""s}) {
    std::string quoted;
    json::append_quoted(type, quoted);
    CHECK(render(type, "1", "2024-05-06 07:08:09+02:00")
          == "[{\"position\":42,\"type\":" + quoted
               + ",\"data\":1,\"timestamp\":\"2024-05-06T07:08:09+02:00\"}");
  }
  // An empty blob would make the document invalid; unknown time text reads as Go's zero.
  CHECK(render("t", "", "garbage")
        == R"([{"position":42,"type":"t","data":null,"timestamp":"0001-01-01T00:00:00Z"})");
}
