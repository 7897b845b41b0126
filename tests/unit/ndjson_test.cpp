// NDJSON: lines split across pieces, export lines parsed for import, import replies.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/errc.hpp"
#include "http/codec.hpp"
#include "http/ndjson.hpp"

using namespace ebuse;

namespace {

struct collected {
  std::vector<std::pair<int64_t, std::string>> lines;
  bool operator()(std::string_view line, int64_t n) {
    lines.emplace_back(n, std::string{line});
    return true;
  }
};

} // namespace

TEST_CASE("lines are split the same whatever pieces the body arrives in", "[ndjson]") {
  const std::string body = "{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}";
  for (std::size_t piece = 1; piece <= body.size(); ++piece) {
    line_reader reader{64};
    collected out;
    for (std::size_t at = 0; at < body.size(); at += piece)
      REQUIRE(reader.feed(std::string_view{body}.substr(at, piece), out));
    REQUIRE(reader.finish(out));
    INFO("piece size " << piece);
    REQUIRE(out.lines.size() == 4);
    CHECK(out.lines[0] == std::pair<int64_t, std::string>{1, "{\"a\":1}"});
    CHECK(out.lines[1] == std::pair<int64_t, std::string>{2, ""});
    CHECK(out.lines[2] == std::pair<int64_t, std::string>{3, "{\"b\":2}"});
    CHECK(out.lines[3] == std::pair<int64_t, std::string>{4, "{\"c\":3}"});
  }
}

TEST_CASE("a line longer than the limit stops the reader at its number", "[ndjson]") {
  line_reader reader{8};
  collected out;
  CHECK(reader.feed("12345678\n123", out));
  CHECK_FALSE(reader.feed("456789", out));
  CHECK(reader.too_long());
  CHECK(reader.number() == 2);
  CHECK(out.lines.size() == 1);

  line_reader stopping{100};
  int seen = 0;
  CHECK_FALSE(stopping.feed("a\nb\nc\n", [&](std::string_view, int64_t) { return ++seen < 2; }));
  CHECK(seen == 2);
  CHECK(stopping.number() == 2);
  CHECK_FALSE(stopping.too_long());
}

TEST_CASE("an export line parses with its position; bad lines say why", "[ndjson]") {
  auto ok = parse_exported_event(
    R"({"position":42,"type":"order.placed","data":{"n": 1.50},)"
    R"("timestamp":"2024-05-06T07:08:09.5+02:00"})");
  REQUIRE(ok);
  CHECK(ok->position == 42);
  CHECK(ok->event.type == "order.placed");
  CHECK(ok->event.data == R"({"n":1.50})");
  CHECK(ok->event.timestamp == "2024-05-06 07:08:09.5+02:00");

  struct bad_case {
    const char* line;
    errc code;
  };
  for (auto c : {bad_case{R"({"type":"a","data":1})", errc::invalid_event},
                 bad_case{R"({"position":0,"type":"a","data":1})", errc::invalid_event},
                 bad_case{R"({"position":-3,"type":"a","data":1})", errc::invalid_event},
                 bad_case{R"({"position":"7","type":"a","data":1})", errc::invalid_event},
                 bad_case{R"({"position":7,"data":1})", errc::invalid_event},
                 bad_case{R"({"position":7,"type":"a","data":1} x)", errc::invalid_json},
                 bad_case{R"({"position":7,"type":"a","data":)", errc::invalid_json},
                 bad_case{"[1,2]", errc::invalid_event}}) {
    INFO(c.line);
    auto r = parse_exported_event(c.line);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == c.code);
    CHECK_FALSE(message_of(r.error()).empty());
  }
  CHECK(blank_line(" \t\r"));
  CHECK_FALSE(blank_line(" x"));
}

TEST_CASE("import replies and errors are JSON with the figures", "[ndjson]") {
  import_summary s{3, 10, 12};
  CHECK(render_import_reply(s) == "{\"imported\":3,\"first_position\":10,\"last_position\":12}\n");
  auto err = nlohmann::json::parse(render_import_error("line 4: bad \"x\"", "invalid_event", 4, s));
  CHECK(err["error"] == "line 4: bad \"x\"");
  CHECK(err["code"] == "invalid_event");
  CHECK(err["line"] == 4);
  CHECK(err["imported"] == 3);
  CHECK(err["last_position"] == 12);
  auto whole = nlohmann::json::parse(render_import_error("m", "tenant_not_empty", 0, {}));
  CHECK_FALSE(whole.contains("line"));
  CHECK(whole["imported"] == 0);
}
