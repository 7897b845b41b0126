// Idempotent producers (protocol 5.2.1): the headers and the epoch/sequence state machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "streams/types.hpp"

namespace ebuse::streams {

/// Largest Producer-Epoch and Producer-Seq (2^53 - 1, exact in JavaScript).
constexpr int64_t max_producer_number = 9007199254740991;

/// Longest Producer-Id (bytes).
constexpr std::size_t max_producer_id_size = 256;

/// Why producer headers are unusable.
enum class producer_header_error {
  none,
  partial,    ///< some of the three headers, not all
  empty_id,
  long_id,    ///< more than max_producer_id_size bytes or control characters
  bad_epoch,  ///< not decimal digits, or above max_producer_number
  bad_seq,
};

/// The human-readable reason for `e`.
const char* describe(producer_header_error e) noexcept;

/// Parses the three headers (null: absent). All absent: `out` stays empty.
producer_header_error parse_producer(const std::string_view* id, const std::string_view* epoch,
                                     const std::string_view* seq,
                                     std::optional<producer_request>& out);

/// The verdict on a producer's request against its stored state.
enum class producer_verdict {
  accept,            ///< new data (or a new epoch, or a new producer at seq 0)
  duplicate,         ///< seq at or below the last accepted: a retry, write nothing
  stale_epoch,       ///< epoch below the current one: a zombie, 403
  new_epoch_bad_seq, ///< a higher epoch must start at seq 0: 400
  sequence_gap,      ///< seq beyond last + 1: 409
};

/// The verdict and what goes with it.
struct producer_check {
  producer_verdict verdict = producer_verdict::accept;
  producer_state next;      ///< accept: the state to store with the append
  int64_t last_seq = 0;     ///< duplicate: the highest accepted seq (echoed)
  int64_t current_epoch = 0; ///< stale_epoch: the epoch to echo
  int64_t expected_seq = 0; ///< sequence_gap
};

/// Validates (`epoch`, `seq`) against `current` (empty for a producer never seen on
/// this stream), without changing anything: the caller stores `next` only together
/// with the append it accepts.
producer_check check_producer(const std::optional<producer_state>& current, int64_t epoch,
                              int64_t seq) noexcept;

} // namespace ebuse::streams
