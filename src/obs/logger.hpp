// Structured JSON log lines on stdout: requests, lifecycle and errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ebuse::log {

/// Severity of a line.
enum class level { debug = 0, info = 1, warn = 2, error = 3 };

/// Sets the lowest level written (default info). Accepts debug/info/warn/error.
void set_level(std::string_view name);

/// True when lines of `lvl` are written.
bool enabled(level lvl) noexcept;

/// A field: name and already-rendered JSON value.
using field = std::pair<std::string_view, std::string>;

/// Renders a string value for a field.
std::string str(std::string_view s);

/// Renders an integer value for a field.
std::string num(int64_t v);

/// Writes `{"time":...,"level":...,"msg":...,<fields>}` as one line.
void write(level lvl, std::string_view msg, const std::vector<field>& fields = {});

/// One line per HTTP request.
struct request_line {
  std::string_view method;
  std::string_view path;
  int status = 0;
  double duration_ms = 0;
  std::size_t bytes = 0;
  std::string_view ip;
  std::string_view tenant;
  std::string_view user_agent;
};

/// Writes a request line at info level.
void request(const request_line& r);

/// Waits (at most 2 s) until every line written so far has reached the output.
void flush();

/// Sends lines to `fd` instead of stdout (benchmarks, tests).
void set_output(int fd);

} // namespace ebuse::log
