// Unit tests for RFC 3339 and stored timestamp parsing and formatting.
#include "core/timestamp.hpp"
#include "support/timestamp_text.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>

namespace ts = ebuse::ts;

namespace {

ts::civil_time make(int y, int mo, int d, int h, int mi, int s, int32_t ns = 0, int off = 0) {
  ts::civil_time t;
  t.year = y;
  t.month = mo;
  t.day = d;
  t.hour = h;
  t.minute = mi;
  t.second = s;
  t.nanos = ns;
  t.offset_minutes = off;
  return t;
}

std::string fields(const ts::civil_time& t) {
  return std::to_string(t.year) + "/" + std::to_string(t.month) + "/" + std::to_string(t.day) +
         " " + std::to_string(t.hour) + ":" + std::to_string(t.minute) + ":" +
         std::to_string(t.second) + "." + std::to_string(t.nanos) + " " +
         std::to_string(t.offset_minutes);
}

// Parsed fields as "y/m/d h:m:s.ns off", or "reject".
std::string rfc(std::string_view in) {
  ts::civil_time t = make(7, 7, 7, 7, 7, 7, 7, 7);
  return ts::parse_rfc3339(in, t) ? fields(t) : "reject";
}

}  // namespace

TEST_CASE("parse_rfc3339 accepts Go's RFC 3339 forms", "[ts][rfc3339]") {
  CHECK(rfc("2024-01-01T00:00:00Z") == "2024/1/1 0:0:0.0 0");
  CHECK(rfc("2024-05-06T07:08:09.123456789+02:00") == "2024/5/6 7:8:9.123456789 120");
  CHECK(rfc("2024-05-06T07:08:09.1-05:30") == "2024/5/6 7:8:9.100000000 -330");
  CHECK(rfc("2024-05-06T07:08:09.000001Z") == "2024/5/6 7:8:9.1000 0");
  CHECK(rfc("2024-05-06T07:08:09.120Z") == "2024/5/6 7:8:9.120000000 0");
  CHECK(rfc("2024-05-06T07:08:09+00:00") == "2024/5/6 7:8:9.0 0");
  CHECK(rfc("2024-05-06T07:08:09-00:00") == "2024/5/6 7:8:9.0 0");
  CHECK(rfc("2024-05-06T23:59:59+23:59") == "2024/5/6 23:59:59.0 1439");
  CHECK(rfc("2024-05-06T23:59:59-23:59") == "2024/5/6 23:59:59.0 -1439");
  CHECK(rfc("0000-01-01T00:00:00Z") == "0/1/1 0:0:0.0 0");
  CHECK(rfc("0001-01-01T00:00:00Z") == "1/1/1 0:0:0.0 0");
  CHECK(rfc("9999-12-31T23:59:59.999999999Z") == "9999/12/31 23:59:59.999999999 0");
  CHECK(rfc("2024-02-29T12:00:00Z") == "2024/2/29 12:0:0.0 0");
  CHECK(rfc("2000-02-29T12:00:00Z") == "2000/2/29 12:0:0.0 0");
  CHECK(rfc("0000-02-29T12:00:00Z") == "0/2/29 12:0:0.0 0");
}

TEST_CASE("parse_rfc3339 drops fraction digits past the ninth, as Go does",
          "[ts][rfc3339]") {
  CHECK(rfc("2024-01-01T00:00:00.1234567899Z") == "2024/1/1 0:0:0.123456789 0");
}

TEST_CASE("parse_rfc3339 rejects everything else", "[ts][rfc3339]") {
  for (const char* bad : {
           "", " ", "2024-01-01", "2024-01-01T00:00:00", "2024-01-01T00:00Z",
           "2024-01-01 00:00:00Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z",
           " 2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z ", "2024-01-01T00:00:00Zx",
           "2024-1-01T00:00:00Z", "2024-01-1T00:00:00Z", "24-01-01T00:00:00Z",
           "2024-01-01T0:00:00Z", "2024-01-01T00:0:00Z", "2024-01-01T00:00:0Z",
           "12024-01-01T00:00:00Z", "2024/01/01T00:00:00Z", "2024-01-01T00-00-00Z",
           "2024-00-01T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-00T00:00:00Z",
           "2024-01-32T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
           "2024-04-31T00:00:00Z", "2024-06-31T00:00:00Z", "2024-11-31T00:00:00Z",
           "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z",
           "2024-01-01T00:00:00.Z",
           "2024-01-01T00:00:00,5Z", "2024-01-01T00:00:00.5.5Z",
           "2024-01-01T00:00:00+0200", "2024-01-01T00:00:00+02", "2024-01-01T00:00:00+2:00",
           "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+02:60",
           "2024-01-01T00:00:00 +02:00", "2024-01-01T00:00:00+02:00Z",
           "2024-01-01T00:00:00Z+02:00", "-001-01-01T00:00:00Z", "+2024-01-01T00:00:00Z",
           "2024-01-01T00:00:00UTC", "２０２４-01-01T00:00:00Z"}) {
    INFO(bad);
    CHECK(rfc(bad) == "reject");
  }
  CHECK(rfc(std::string_view("2024-01-01T00:00:00Z\0", 21)) == "reject");
}

TEST_CASE("parse_rfc3339 leaves the output alone on failure", "[ts][rfc3339]") {
  ts::civil_time t = make(2000, 1, 2, 3, 4, 5, 6, 7);
  CHECK_FALSE(ts::parse_rfc3339("2024-02-30T00:00:00Z", t));
  CHECK(fields(t) == "2000/1/2 3:4:5.6 7");
}

TEST_CASE("format_rfc3339 matches Go's MarshalJSON", "[ts][rfc3339]") {
  CHECK(ts::format_rfc3339(make(2024, 1, 1, 0, 0, 0)) == "2024-01-01T00:00:00Z");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 123456789, 120)) ==
        "2024-05-06T07:08:09.123456789+02:00");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 100000000, -330)) ==
        "2024-05-06T07:08:09.1-05:30");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 120000000)) == "2024-05-06T07:08:09.12Z");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 1)) == "2024-05-06T07:08:09.000000001Z");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 1000)) == "2024-05-06T07:08:09.000001Z");
  CHECK(ts::format_rfc3339(make(1, 1, 1, 0, 0, 0)) == "0001-01-01T00:00:00Z");
  CHECK(ts::format_rfc3339(make(0, 1, 1, 0, 0, 0)) == "0000-01-01T00:00:00Z");
  CHECK(ts::format_rfc3339(make(999, 12, 31, 23, 59, 59, 0, -1439)) ==
        "0999-12-31T23:59:59-23:59");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 0, -60)) == "2024-05-06T07:08:09-01:00");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 0, 5)) == "2024-05-06T07:08:09+00:05");
  CHECK(ts::format_rfc3339(make(2024, 5, 6, 7, 8, 9, 0, -5)) == "2024-05-06T07:08:09-00:05");
}

TEST_CASE("format_stored matches mattn's layout", "[ts][stored]") {
  CHECK(ts::format_stored(make(2024, 5, 6, 7, 8, 9, 123456789, 120)) ==
        "2024-05-06 07:08:09.123456789+02:00");
  CHECK(ts::format_stored(make(2024, 1, 1, 0, 0, 0)) == "2024-01-01 00:00:00+00:00");
  CHECK(ts::format_stored(make(2024, 1, 1, 0, 0, 0, 500000000, -330)) ==
        "2024-01-01 00:00:00.5-05:30");
  CHECK(ts::format_stored(make(1, 1, 1, 0, 0, 0)) == "0001-01-01 00:00:00+00:00");
}

TEST_CASE("RFC 3339 text round-trips through parse and format", "[ts][rfc3339]") {
  for (const char* s : {"2024-01-01T00:00:00Z", "2024-05-06T07:08:09.123456789+02:00",
                        "2024-05-06T07:08:09.1-05:30", "0001-01-01T00:00:00Z",
                        "2020-02-29T23:59:59.000000001+14:00", "1999-12-31T23:59:59.5-12:00"}) {
    INFO(s);
    ts::civil_time t;
    REQUIRE(ts::parse_rfc3339(s, t));
    CHECK(ts::format_rfc3339(t) == s);
  }
  ts::civil_time t;
  REQUIRE(ts::parse_rfc3339("2024-05-06T07:08:09.500000000+00:00", t));
  CHECK(ts::format_rfc3339(t) == "2024-05-06T07:08:09.5Z");
}

TEST_CASE("now_utc reads the system clock in UTC", "[ts]") {
  using namespace std::chrono;
  const auto before = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  const ts::civil_time t = ts::now_utc();
  const auto after = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  CHECK(t.offset_minutes == 0);
  CHECK(t.year >= 2024);
  CHECK(t.year <= 9999);
  CHECK(t.nanos >= 0);
  CHECK(t.nanos <= 999999999);

  // Recompute the Unix time from the fields to check the calendar conversion.
  auto days_from_civil = [](int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    const int64_t era = y / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
  };
  const int64_t unix = days_from_civil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
                       t.minute * 60 + t.second;
  CHECK(unix >= before);
  CHECK(unix <= after);

  ts::civil_time back;
  REQUIRE(ts::parse_rfc3339(ts::format_rfc3339(t), back));
  CHECK(fields(back) == fields(t));
}
