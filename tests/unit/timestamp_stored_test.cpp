// Unit tests for reading the timestamp text the Go SQLite drivers stored.
#include "core/timestamp.hpp"
#include "support/timestamp_text.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace ts = ebuse::ts;

namespace {

std::string stored(std::string_view in) {
  ts::civil_time t;
  t.year = 7;
  t.nanos = 7;
  t.offset_minutes = 7;
  if (!ts::parse_stored(in, t)) return "reject";
  return std::to_string(t.year) + "/" + std::to_string(t.month) + "/" + std::to_string(t.day) +
         " " + std::to_string(t.hour) + ":" + std::to_string(t.minute) + ":" +
         std::to_string(t.second) + "." + std::to_string(t.nanos) + " " +
         std::to_string(t.offset_minutes);
}

// The RFC 3339 text for stored text, "reject", or a note when a failure appended bytes.
std::string to_rfc(std::string_view in) {
  std::string out = ">";
  if (!ts::append_stored_as_rfc3339(in, out))
    return out == ">" ? "reject" : "reject but appended " + out;
  return out.substr(1);
}

}  // namespace

TEST_CASE("parse_stored reads mattn's layouts", "[ts][stored]") {
  CHECK(stored("2024-05-06 07:08:09.123456789+02:00") == "2024/5/6 7:8:9.123456789 120");
  CHECK(stored("2024-05-06T07:08:09.123456789+02:00") == "2024/5/6 7:8:9.123456789 120");
  CHECK(stored("2024-05-06 07:08:09.5-05:30") == "2024/5/6 7:8:9.500000000 -330");
  CHECK(stored("2024-05-06 07:08:09+00:00") == "2024/5/6 7:8:9.0 0");
  CHECK(stored("2024-05-06 07:08:09.123") == "2024/5/6 7:8:9.123000000 0");
  CHECK(stored("2024-05-06T07:08:09") == "2024/5/6 7:8:9.0 0");
  CHECK(stored("2024-05-06 07:08:09Z") == "2024/5/6 7:8:9.0 0");
  CHECK(stored("2024-05-06T07:08:09.25Z") == "2024/5/6 7:8:9.250000000 0");
  CHECK(stored("2024-05-06 07:08") == "2024/5/6 7:8:0.0 0");
  CHECK(stored("2024-05-06T07:08") == "2024/5/6 7:8:0.0 0");
  CHECK(stored("2024-05-06 07:08Z") == "2024/5/6 7:8:0.0 0");
  CHECK(stored("2024-05-06") == "2024/5/6 0:0:0.0 0");
  CHECK(stored("2024-02-29") == "2024/2/29 0:0:0.0 0");
  // Go reads more than nine fraction digits and drops the excess.
  CHECK(stored("2024-05-06 07:08:09.1234567891+02:00") == "2024/5/6 7:8:9.123456789 120");
}

TEST_CASE("parse_stored reads Go's time.String form", "[ts][stored]") {
  CHECK(stored("2024-05-06 07:08:09.123456789 +0200 CEST") == "2024/5/6 7:8:9.123456789 120");
  CHECK(stored("0001-01-01 00:00:00 +0000 UTC") == "1/1/1 0:0:0.0 0");
  CHECK(stored("2024-05-06 07:08:09 -0530 -0530") == "2024/5/6 7:8:9.0 -330");
  CHECK(stored("2024-05-06 07:08:09 +0300 +03") == "2024/5/6 7:8:9.0 180");
  CHECK(stored("2024-05-06 07:08:09.5 +0000") == "2024/5/6 7:8:9.500000000 0");
  CHECK(stored("2024-05-06 07:08:09.5 +0000 UTC m=+0.000000001") ==
        "2024/5/6 7:8:9.500000000 0");
  CHECK(stored("2024-05-06 07:08:09 +0100 CET m=-1.5") == "2024/5/6 7:8:9.0 60");
  CHECK(stored("2024-05-06 07:08:09 +0100 CET m=+3600") == "2024/5/6 7:8:9.0 60");
  CHECK(stored("2024-05-06 07:08:09 +0000 m=+0.25") == "2024/5/6 7:8:9.0 0");
}

TEST_CASE("parse_stored rejects unknown text", "[ts][stored]") {
  for (const char* bad : {
           "", " ", "Z", "2024", "2024-05", "2024-5-06", "2024-05-6", "2024-05-06 ",
           "2024-05-06X07:08:09", "2024-05-06 07", "2024-05-06 07:", "2024-05-06 7:08:09",
           "2024-05-06 07:08:", "2024-05-06 07:08:9", "2024-05-06 07:08+02:00",
           "2024-05-06 07:08:09.", "2024-05-06 07:08:09.x", "2024-05-06 07:08:09 ",
           "2024-05-06 07:08:09+0200", "2024-05-06 07:08:09+02", "2024-05-06 07:08:09 +02:00",
           "2024-05-06 07:08:09+24:00", "2024-05-06 07:08:09 +0260 X",
           "2024-05-06 07:08:09 +0200  CEST", "2024-05-06 07:08:09 +0200 CEST ",
           "2024-05-06 07:08:09 +0200 CEST extra", "2024-05-06 07:08:09 +0200 CEST m=",
           "2024-05-06 07:08:09 +0200 CEST m=+", "2024-05-06 07:08:09 +0200 CEST m=1.5",
           "2024-05-06 07:08:09 +0200 CEST m=+1.", "2024-05-06 07:08:09 +0200 CEST m=+.5",
           "2024-05-06 07:08:09 +0200 CEST m=+1.5.5", "2024-05-06 07:08:09 +0200 CEST m=+1x",
           "2024-02-30 00:00:00", "2023-02-29", "2024-13-01", "2024-00-10", "2024-05-00",
           "2024-05-06 24:00:00", "2024-05-06 23:60:00", "2024-05-06 23:59:60",
           "2024-05-06 23:60", "2024-05-06 07:08:09+02:00 junk", "garbage",
           "2024-05-06T07:08:09.123456789+02:00ZZ", "10000-01-01 00:00:00"}) {
    INFO(bad);
    CHECK(stored(bad) == "reject");
    CHECK(to_rfc(bad) == "reject");
  }
}

TEST_CASE("format_stored and parse_stored round-trip", "[ts][stored]") {
  for (const char* s : {"2024-05-06 07:08:09.123456789+02:00", "2024-01-01 00:00:00+00:00",
                        "0001-01-01 00:00:00+00:00", "2024-12-31 23:59:59.5-05:30",
                        "1970-01-01 00:00:00.000000001-23:59"}) {
    INFO(s);
    ts::civil_time t;
    REQUIRE(ts::parse_stored(s, t));
    CHECK(ts::format_stored(t) == s);
  }
}

TEST_CASE("append_stored_as_rfc3339 converts every stored form", "[ts][stored]") {
  CHECK(to_rfc("2024-05-06 07:08:09.123456789+02:00") == "2024-05-06T07:08:09.123456789+02:00");
  CHECK(to_rfc("2024-01-01 00:00:00+00:00") == "2024-01-01T00:00:00Z");
  CHECK(to_rfc("2024-05-06 07:08:09.100-05:30") == "2024-05-06T07:08:09.1-05:30");
  CHECK(to_rfc("2024-05-06 07:08:09.000000000+00:00") == "2024-05-06T07:08:09Z");
  CHECK(to_rfc("2024-05-06 07:08:09.000001000-00:00") == "2024-05-06T07:08:09.000001Z");
  CHECK(to_rfc("2024-05-06T07:08:09Z") == "2024-05-06T07:08:09Z");
  CHECK(to_rfc("2024-05-06 07:08") == "2024-05-06T07:08:00Z");
  CHECK(to_rfc("2024-05-06") == "2024-05-06T00:00:00Z");
  CHECK(to_rfc("2024-05-06 07:08:09.123456789 +0200 CEST") ==
        "2024-05-06T07:08:09.123456789+02:00");
  CHECK(to_rfc("2024-05-06 07:08:09.5 -0330 -0330 m=+12.000000001") ==
        "2024-05-06T07:08:09.5-03:30");
  CHECK(to_rfc("0001-01-01 00:00:00 +0000 UTC") == "0001-01-01T00:00:00Z");

  std::string out = "[\"";
  REQUIRE(ts::append_stored_as_rfc3339("2024-05-06 07:08:09+01:00", out));
  CHECK(out == "[\"2024-05-06T07:08:09+01:00");
}

TEST_CASE("stored text written by format_stored converts to the same instant", "[ts][stored]") {
  ts::civil_time t;
  t.year = 2023;
  t.month = 12;
  t.day = 31;
  t.hour = 23;
  t.minute = 59;
  t.second = 58;
  t.nanos = 987654000;
  t.offset_minutes = 345;
  CHECK(to_rfc(ts::format_stored(t)) == ts::format_rfc3339(t));
  CHECK(ts::format_rfc3339(t) == "2023-12-31T23:59:58.987654+05:45");
  t.offset_minutes = 0;
  t.nanos = 0;
  CHECK(to_rfc(ts::format_stored(t)) == "2023-12-31T23:59:58Z");
}

// The canonical form this server writes is converted by a copying shortcut: it must agree
// with parsing and formatting for every text, near-valid ones included.
TEST_CASE("the shortcut for canonical stored text agrees with the full conversion",
          "[ts][stored]") {
  auto full = [](std::string_view in) {
    ts::civil_time t;
    return ts::parse_stored(in, t) ? ts::format_rfc3339(t) : std::string{"reject"};
  };
  std::vector<std::string> seeds = {
    "2024-05-06 07:08:09.123456789+02:00", "2024-05-06 07:08:09+00:00",
    "2024-02-29 23:59:59.9-00:00",         "2023-02-29 00:00:00+00:00",
    "2024-04-31 00:00:00+00:00",           "2024-13-01 00:00:00+00:00",
    "2024-00-10 00:00:00+00:00",           "2024-01-00 00:00:00+00:00",
    "2024-01-01 24:00:00+00:00",           "2024-01-01 00:60:00+00:00",
    "2024-01-01 00:00:60+00:00",           "2024-01-01 00:00:00+24:00",
    "2024-01-01 00:00:00-23:59",           "2024-01-01 00:00:00+00:60",
    "2024-01-01 00:00:00.1234567891+00:00", "2024-01-01 00:00:00.120+00:00",
    "2024-01-01 00:00:00.+00:00",          "2024-01-01 00:00:00.5+0000",
    "2024-01-01T00:00:00.5+01:00",         "2024-01-01 00:00:00.5Z",
    "0000-01-01 00:00:00+00:00",           "9999-12-31 23:59:59.999999999+23:59",
    "1900-02-29 00:00:00+00:00",           "2000-02-29 00:00:00+00:00",
  };
  std::string alphabet = "0123456789 -:+.TZ";
  for (const auto& seed : seeds) {
    CHECK(to_rfc(seed) == full(seed));
    // Every single-character change of every seed.
    for (std::size_t i = 0; i < seed.size(); ++i) {
      for (char c : alphabet) {
        std::string m = seed;
        m[i] = c;
        INFO(m);
        REQUIRE(to_rfc(m) == full(m));
      }
    }
  }
}
