// Timestamp parsing and formatting that reproduces Go's time package for the wire and disk forms.
#include "core/timestamp.hpp"

#include <chrono>
#include <cstring>

namespace ebuse::ts {
namespace {

// Longest output: "9999-12-31T23:59:59.999999999+23:59" is 35 bytes.
constexpr std::size_t max_text = 40;

bool is_leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in(int month, int year) noexcept {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// A cursor over the input; each member leaves `p` untouched on failure, so callers can
// probe optional parts.
struct reader {
  std::string_view s;
  std::size_t p = 0;

  bool done() const noexcept { return p == s.size(); }
  bool peek(char c) const noexcept { return p < s.size() && s[p] == c; }
  bool eat(char c) noexcept {
    if (!peek(c)) return false;
    ++p;
    return true;
  }
  // Exactly `width` decimal digits.
  bool num(int width, int& v) noexcept {
    if (s.size() - p < static_cast<std::size_t>(width)) return false;
    int r = 0;
    for (int i = 0; i < width; ++i) {
      const char c = s[p + i];
      if (c < '0' || c > '9') return false;
      r = r * 10 + (c - '0');
    }
    v = r;
    p += width;
    return true;
  }
  // '.' and at least one digit; digits past the ninth are read but dropped, as Go does.
  bool fraction(std::size_t max_digits, int32_t& nanos) noexcept {
    if (p + 1 >= s.size() || s[p] != '.' || s[p + 1] < '0' || s[p + 1] > '9') return false;
    std::size_t q = p + 1;
    int32_t v = 0;
    std::size_t digits = 0;
    while (q < s.size() && s[q] >= '0' && s[q] <= '9') {
      if (digits < 9) v = v * 10 + (s[q] - '0');
      ++digits;
      ++q;
    }
    if (digits > max_digits) return false;
    for (std::size_t d = digits; d < 9; ++d) v *= 10;
    nanos = v;
    p = q;
    return true;
  }
};

// "YYYY-MM-DD" with month and day checked against the calendar.
bool read_date(reader& r, civil_time& t) noexcept {
  return r.num(4, t.year) && r.eat('-') && r.num(2, t.month) && r.eat('-') &&
         r.num(2, t.day) && t.month >= 1 && t.month <= 12 && t.day >= 1 &&
         t.day <= days_in(t.month, t.year);
}

// "±HH:MM" (colon form) or "±HHMM" as an offset in minutes east of UTC.
bool read_offset(reader& r, bool colon, int& minutes) noexcept {
  const std::size_t start = r.p;
  const bool neg = r.peek('-');
  int h = 0, m = 0;
  if (!(r.eat('+') || r.eat('-')) || !r.num(2, h) || (colon && !r.eat(':')) || !r.num(2, m) ||
      h >= 24 || m >= 60) {
    r.p = start;
    return false;
  }
  minutes = neg ? -(h * 60 + m) : h * 60 + m;
  return true;
}

bool valid_clock(const civil_time& t) noexcept {
  return t.hour < 24 && t.minute < 60 && t.second < 60;
}

// The tail of Go's time.String(): " -0700 MST" with an optional " m=±secs" suffix.
bool read_go_string_tail(reader& r, int& offset) noexcept {
  if (!r.eat(' ') || !read_offset(r, false, offset)) return false;
  auto token = [&]() {
    const std::size_t start = r.p;
    while (r.p < r.s.size() && r.s[r.p] != ' ') ++r.p;
    return r.s.substr(start, r.p - start);
  };
  if (r.done()) return true;
  if (!r.eat(' ')) return false;
  std::string_view tok = token();
  if (tok.empty()) return false;
  if (tok.substr(0, 2) != "m=") {  // a zone abbreviation such as UTC, CEST or +03
    if (r.done()) return true;
    if (!r.eat(' ')) return false;
    tok = token();
  }
  // Monotonic clock reading: m=±digits[.digits], meaningless once stored.
  if (tok.size() < 4 || tok[0] != 'm' || tok[1] != '=' || (tok[2] != '+' && tok[2] != '-'))
    return false;
  bool digit = false, dot = false;
  for (std::size_t i = 3; i < tok.size(); ++i) {
    if (tok[i] >= '0' && tok[i] <= '9') digit = true;
    else if (tok[i] == '.' && !dot && digit) dot = true;
    else return false;
  }
  return digit && tok.back() != '.' && r.done();
}

char* put2(char* o, int v) noexcept {
  o[0] = static_cast<char>('0' + v / 10);
  o[1] = static_cast<char>('0' + v % 10);
  return o + 2;
}

// Writes "YYYY-MM-DD<sep>HH:MM:SS[.fffffffff]" with trailing fraction zeros trimmed.
char* put_wall(char* o, const civil_time& t, char sep) noexcept {
  o = put2(o, t.year / 100 % 100);
  o = put2(o, t.year % 100);
  *o++ = '-';
  o = put2(o, t.month);
  *o++ = '-';
  o = put2(o, t.day);
  *o++ = sep;
  o = put2(o, t.hour);
  *o++ = ':';
  o = put2(o, t.minute);
  *o++ = ':';
  o = put2(o, t.second);
  if (t.nanos > 0) {
    char digits[9];
    int32_t v = t.nanos;
    for (int i = 8; i >= 0; --i, v /= 10) digits[i] = static_cast<char>('0' + v % 10);
    int len = 9;
    while (len > 0 && digits[len - 1] == '0') --len;
    if (len > 0) *o++ = '.';
    for (int i = 0; i < len; ++i) *o++ = digits[i];
  }
  return o;
}

char* put_offset(char* o, int minutes) noexcept {
  *o++ = minutes < 0 ? '-' : '+';
  if (minutes < 0) minutes = -minutes;
  o = put2(o, minutes / 60);
  *o++ = ':';
  return put2(o, minutes % 60);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
void civil_from_days(int64_t z, int& y, int& m, int& d) noexcept {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
}

}  // namespace

bool parse_rfc3339(std::string_view in, civil_time& out) noexcept {
  reader r{in};
  civil_time t;
  if (!read_date(r, t) || !r.eat('T') || !r.num(2, t.hour) || !r.eat(':') ||
      !r.num(2, t.minute) || !r.eat(':') || !r.num(2, t.second) || !valid_clock(t))
    return false;
  if (r.peek('.') && !r.fraction(std::string_view::npos, t.nanos)) return false;
  if (!r.eat('Z') && !read_offset(r, true, t.offset_minutes)) return false;
  if (!r.done()) return false;
  out = t;
  return true;
}

std::size_t write_rfc3339(char* buf, const civil_time& t) noexcept {
  char* o = put_wall(buf, t, 'T');
  if (t.offset_minutes == 0) *o++ = 'Z';
  else o = put_offset(o, t.offset_minutes);
  return static_cast<std::size_t>(o - buf);
}

bool parse_stored(std::string_view in, civil_time& out) noexcept {
  // mattn strips one trailing 'Z' before trying its layouts, so "…Z" means UTC.
  if (!in.empty() && in.back() == 'Z') in.remove_suffix(1);
  reader r{in};
  civil_time t;
  if (!read_date(r, t)) return false;
  if (r.done()) {
    out = t;
    return true;
  }
  if (!(r.eat(' ') || r.eat('T')) || !r.num(2, t.hour) || !r.eat(':') || !r.num(2, t.minute))
    return false;
  if (r.eat(':')) {
    if (!r.num(2, t.second)) return false;
    if (r.peek('.') && !r.fraction(std::string_view::npos, t.nanos)) return false;
    if (!r.done() && !read_offset(r, true, t.offset_minutes) &&
        !read_go_string_tail(r, t.offset_minutes))
      return false;
  }
  if (!r.done() || !valid_clock(t)) return false;
  out = t;
  return true;
}

std::string format_stored(const civil_time& t) {
  char buf[max_text];
  char* o = put_offset(put_wall(buf, t, ' '), t.offset_minutes);
  return std::string(buf, static_cast<std::size_t>(o - buf));
}

namespace {

int two(const char* p) noexcept { return (p[0] - '0') * 10 + (p[1] - '0'); }

bool digits(const char* p, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] < '0' || p[i] > '9') return false;
  return true;
}

// The form this server writes, `2006-01-02 15:04:05.999999999-07:00` with the fraction
// already trimmed, differs from the wire form only in its separator and in `Z` for a
// zero offset: it is validated as the full parser would and copied, without a round trip
// through civil_time. Anything else (other forms, untrimmed fractions) returns 0 and
// takes the full path.
std::size_t write_canonical(std::string_view s, char* out) noexcept {
  const std::size_t n = s.size();
  if (n < 25 || n > 35) return 0;
  const char* p = s.data();
  // "YYYY-MM-DD HH:MM:SS"
  if (p[4] != '-' || p[7] != '-' || p[10] != ' ' || p[13] != ':' || p[16] != ':' ||
      !digits(p, 4) || !digits(p + 5, 2) || !digits(p + 8, 2) || !digits(p + 11, 2) ||
      !digits(p + 14, 2) || !digits(p + 17, 2))
    return 0;
  const int year = two(p) * 100 + two(p + 2), month = two(p + 5), day = two(p + 8);
  if (month < 1 || month > 12 || day < 1 || day > days_in(month, year) || two(p + 11) >= 24 ||
      two(p + 14) >= 60 || two(p + 17) >= 60)
    return 0;
  // ".fffffffff" (1..9 digits, last one not 0), then "±HH:MM" ending the text.
  std::size_t wall = 19;
  if (p[19] == '.') {
    std::size_t q = 20;
    while (q < n && p[q] >= '0' && p[q] <= '9') ++q;
    if (q == 20 || q - 20 > 9 || p[q - 1] == '0') return 0;
    wall = q;
  }
  if (n - wall != 6) return 0;
  const char* o = p + wall;
  if ((o[0] != '+' && o[0] != '-') || o[3] != ':' || !digits(o + 1, 2) || !digits(o + 4, 2) ||
      two(o + 1) >= 24 || two(o + 4) >= 60)
    return 0;
  const bool utc = two(o + 1) == 0 && two(o + 4) == 0;
  std::memcpy(out, p, utc ? wall : n);
  out[10] = 'T';
  if (!utc) return n;
  out[wall] = 'Z';
  return wall + 1;
}

}  // namespace

std::size_t stored_to_rfc3339(std::string_view stored, char* out) noexcept {
  if (std::size_t n = write_canonical(stored, out)) return n;
  // Parsing is allocation free and formatting goes to the caller's buffer.
  civil_time t;
  if (!parse_stored(stored, t)) return 0;
  return write_rfc3339(out, t);
}

int64_t to_unix_ms(const civil_time& t) noexcept {
  const int64_t days = days_from_civil(t.year, t.month, t.day);
  const int64_t secs = days * 86400 + t.hour * 3600 + t.minute * 60 + t.second
                       - int64_t{t.offset_minutes} * 60;
  return secs * 1000 + t.nanos / 1000000;
}

civil_time utc_of_unix_ms(int64_t unix_ms) noexcept {
  // Floor division: a time before the epoch lies in the day and second before it.
  const int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  const int64_t rem = secs - days * 86400;
  civil_time t;
  civil_from_days(days, t.year, t.month, t.day);
  t.hour = static_cast<int>(rem / 3600);
  t.minute = static_cast<int>(rem / 60 % 60);
  t.second = static_cast<int>(rem % 60);
  t.nanos = static_cast<int32_t>((unix_ms - secs * 1000) * 1000000);
  return t;
}

int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

civil_time now_utc() {
  using namespace std::chrono;
  const int64_t ns = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
  constexpr int64_t ns_per_day = int64_t{86400} * 1000000000;
  int64_t days = ns / ns_per_day;
  int64_t rem = ns % ns_per_day;
  if (rem < 0) {
    rem += ns_per_day;
    --days;
  }
  civil_time t;
  civil_from_days(days, t.year, t.month, t.day);
  const int64_t secs = rem / 1000000000;
  t.nanos = static_cast<int32_t>(rem % 1000000000);
  t.hour = static_cast<int>(secs / 3600);
  t.minute = static_cast<int>(secs / 60 % 60);
  t.second = static_cast<int>(secs % 60);
  t.offset_minutes = 0;
  return t;
}

}  // namespace ebuse::ts
