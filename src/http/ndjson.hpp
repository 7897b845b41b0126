// NDJSON bodies: lines split from pieces of any size, and the replies of an import.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ebuse {

/// Splits a byte stream into lines ending in `\n` (a `\r` before it is dropped),
/// whatever the pieces it arrives in. Memory is bounded by the longest line accepted.
class line_reader {
public:
  /// Lines longer than `max_line` bytes are refused.
  explicit line_reader(std::size_t max_line) : max_(max_line) {
  }

  /// Feeds `data`, calling `on_line(line, number)` (numbers from 1) for each complete
  /// line. Stops and returns false when `on_line` returns false or a line is too long
  /// (then too_long() is true and number() is that line's).
  template <class F>
  bool feed(std::string_view data, F&& on_line) {
    while (!data.empty()) {
      auto nl = data.find('\n');
      auto piece = data.substr(0, nl);
      if (partial_.size() + piece.size() > max_) {
        too_long_ = true;
        number_ = done_ + 1;
        return false;
      }
      if (nl == std::string_view::npos) {
        partial_.append(piece);
        return true;
      }
      data.remove_prefix(nl + 1);
      bool ok;
      if (partial_.empty()) {
        ok = emit(piece, on_line);
      } else {
        partial_.append(piece);
        ok = emit(partial_, on_line);
        partial_.clear();
      }
      if (!ok)
        return false;
    }
    return true;
  }

  /// At the end of the input: passes on a last line that had no newline.
  template <class F>
  bool finish(F&& on_line) {
    if (partial_.empty())
      return true;
    std::string last = std::move(partial_);
    partial_.clear();
    return emit(last, on_line);
  }

  /// The number of the last line passed on (or refused).
  int64_t number() const noexcept {
    return number_;
  }

  /// Whether the input stopped at a line longer than the limit.
  bool too_long() const noexcept {
    return too_long_;
  }

private:
  template <class F>
  bool emit(std::string_view line, F& on_line) {
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    number_ = ++done_;
    return on_line(line, number_);
  }

  std::size_t max_;
  std::string partial_;
  int64_t done_ = 0;
  int64_t number_ = 0;
  bool too_long_ = false;
};

/// What an import did: the reply, and the figures an error reports.
struct import_summary {
  int64_t imported = 0;       ///< events committed
  int64_t first_position = 0; ///< of the first committed (0: none)
  int64_t last_position = 0;  ///< of the last committed (0: none)
};

/// `{"imported":N,"first_position":F,"last_position":L}` and a newline.
std::string render_import_reply(const import_summary& s);

/// An import's error body: `{"error":...,"code":...,"line":N,"imported":...,
/// "first_position":...,"last_position":...}` and a newline; `line` 0 is left out (the
/// failure was not one line's).
std::string render_import_error(std::string_view message, std::string_view code,
                                int64_t line, const import_summary& s);

/// Whether `line` holds only JSON whitespace (skipped by an import).
bool blank_line(std::string_view line) noexcept;

} // namespace ebuse
