// Reading Durable Streams tables: stream rows, fork views, appends, producer state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "storage/db.hpp"
#include "streams/types.hpp"

namespace ebuse {

/// Longest fork chain (a fork of a fork ...): each level costs a lookup per read.
constexpr std::size_t max_fork_depth = 32;

/// A piece of a stream's view: the appends of `stream_id` with seq in (after, upto].
/// A stream's view is its own appends after its fork point, preceded by what it
/// inherits from its source (and recursively) up to that point.
struct stream_segment {
  int64_t stream_id = 0;
  int64_t after = 0;
  int64_t upto = 0;
};

/// One stored append as a read sees it.
struct stream_row {
  int64_t seq = 0;
  int64_t end_bytes = 0;
  int64_t messages = 0;
  std::string_view data; ///< valid until the next row
};

/// Read statements over one connection: a reader's, or the writer's inside its
/// transaction (it sees its own uncommitted writes). Move-only; the connection must
/// outlive it.
class stream_query {
public:
  /// Prepares the statements on `db` (whose schema has the stream tables).
  static caf::expected<stream_query> prepare(sql::connection& db);

  /// The stream at `path`, live or soft-deleted.
  caf::expected<std::optional<streams::stream_meta>> by_path(std::string_view path);

  /// The stream with internal id `id`.
  caf::expected<std::optional<streams::stream_meta>> by_id(int64_t id);

  /// Whether some stream is a fork of `id`.
  caf::expected<bool> has_forks(int64_t id);

  /// The segments of `s`'s view, root first. errc::invalid_parameter when `s` and its
  /// sources are more than `max_levels` streams.
  caf::expected<std::vector<stream_segment>> view(const streams::stream_meta& s,
                                                  std::size_t max_levels = max_fork_depth);

  /// Whether `at` is a position of the view whose tail is `tail`: the start, the tail,
  /// or the end of one of its appends.
  caf::expected<bool> is_position(const std::vector<stream_segment>& view, streams::offset at,
                                  streams::offset tail);

  /// Calls `sink` for the appends of `view` after seq `after`, in order, until
  /// `max_rows` appends or `max_bytes` bytes were given (at least one).
  caf::error read(const std::vector<stream_segment>& view, int64_t after, int64_t max_rows,
                  int64_t max_bytes, const std::function<void(const stream_row&)>& sink);

  /// The state of producer `producer_id` on stream `stream_id`, if it wrote there.
  caf::expected<std::optional<streams::producer_state>> producer(int64_t stream_id,
                                                                 std::string_view producer_id);

private:
  stream_query() = default;

  caf::expected<std::optional<streams::stream_meta>> one(sql::statement& st);

  sql::connection* db_ = nullptr;
  sql::statement by_path_;
  sql::statement by_id_;
  sql::statement has_forks_;
  sql::statement rows_;
  sql::statement row_end_;
  sql::statement producer_;
};

} // namespace ebuse
