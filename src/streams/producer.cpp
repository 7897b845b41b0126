// Kafka-style producer fencing: epochs only grow, sequences are dense within an epoch.
#include "streams/producer.hpp"

#include "streams/stream_config.hpp"

namespace ebuse::streams {

const char* describe(producer_header_error e) noexcept {
  switch (e) {
    case producer_header_error::none: return "";
    case producer_header_error::partial:
      return "Producer-Id, Producer-Epoch and Producer-Seq must be sent together";
    case producer_header_error::empty_id: return "Producer-Id must not be empty";
    case producer_header_error::long_id:
      return "Producer-Id must be at most 256 bytes without control characters";
    case producer_header_error::bad_epoch:
      return "Producer-Epoch must be an integer from 0 to 2^53-1";
    case producer_header_error::bad_seq:
      return "Producer-Seq must be an integer from 0 to 2^53-1";
  }
  return "";
}

producer_header_error parse_producer(const std::string_view* id, const std::string_view* epoch,
                                     const std::string_view* seq,
                                     std::optional<producer_request>& out) {
  out.reset();
  int present = (id != nullptr) + (epoch != nullptr) + (seq != nullptr);
  if (present == 0)
    return producer_header_error::none;
  if (present != 3)
    return producer_header_error::partial;
  if (id->empty())
    return producer_header_error::empty_id;
  if (id->size() > max_producer_id_size)
    return producer_header_error::long_id;
  for (char c : *id)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return producer_header_error::long_id;
  producer_request req;
  if (!parse_decimal(*epoch, max_producer_number, false, req.epoch))
    return producer_header_error::bad_epoch;
  if (!parse_decimal(*seq, max_producer_number, false, req.seq))
    return producer_header_error::bad_seq;
  req.id.assign(*id);
  out = std::move(req);
  return producer_header_error::none;
}

producer_check check_producer(const std::optional<producer_state>& current, int64_t epoch,
                              int64_t seq) noexcept {
  producer_check out;
  if (!current) {
    // A producer never seen here starts at seq 0, in whatever epoch it declares.
    if (seq != 0) {
      out.verdict = producer_verdict::sequence_gap;
      out.expected_seq = 0;
      return out;
    }
    out.next = producer_state{epoch, 0};
    return out;
  }
  if (epoch < current->epoch) {
    out.verdict = producer_verdict::stale_epoch;
    out.current_epoch = current->epoch;
    return out;
  }
  if (epoch > current->epoch) {
    if (seq != 0) {
      out.verdict = producer_verdict::new_epoch_bad_seq;
      return out;
    }
    out.next = producer_state{epoch, 0};
    return out;
  }
  if (seq <= current->last_seq) {
    out.verdict = producer_verdict::duplicate;
    out.last_seq = current->last_seq;
    return out;
  }
  if (seq == current->last_seq + 1) {
    out.next = producer_state{epoch, seq};
    return out;
  }
  out.verdict = producer_verdict::sequence_gap;
  out.expected_seq = current->last_seq + 1;
  return out;
}

} // namespace ebuse::streams
