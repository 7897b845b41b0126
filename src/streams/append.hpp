// The append decision: what a POST does to a stream, with the protocol's precedence.
#pragma once

#include <cstdint>
#include <optional>

#include "streams/producer.hpp"
#include "streams/types.hpp"

namespace ebuse::streams {

/// What to do with a POST, decided from the stored stream (and the producer's stored
/// state) before anything is written, so that the writer applies it atomically: the
/// data, the producer state, the Stream-Seq and the closure in one transaction.
struct append_decision {
  outcome result = outcome::appended;
  bool write_data = false;     ///< store the body as the next append
  bool close = false;          ///< close the stream (recording the producer tuple)
  bool store_producer = false; ///< store producer_next for the request's producer
  producer_state producer_next;
  bool store_stream_seq = false; ///< remember the request's Stream-Seq
  bool has_producer = false;     ///< echo Producer-Epoch / Producer-Seq
  int64_t producer_epoch = 0;
  int64_t producer_seq = 0;
  int64_t expected_seq = 0;
  int64_t received_seq = 0;
};

/// Decides a POST on the live stream `s`. `stored` is the request producer's state on
/// this stream (empty when new or when the request has none). Precedence follows the
/// protocol: close-only first, then an empty body or missing type, a closed stream, a
/// content-type mismatch, the producer check (a retry is a duplicate before Stream-Seq
/// is looked at), Stream-Seq, the JSON body, and the size limit.
append_decision decide_append(const stream_meta& s, const std::optional<producer_state>& stored,
                              const append_request& req, int64_t max_stream_bytes);

} // namespace ebuse::streams
