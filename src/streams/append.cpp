// Appends, closes and their idempotent retries, decided without touching storage.
#include "streams/append.hpp"

#include "streams/content_type.hpp"

namespace ebuse::streams {

namespace {

bool same_tuple(const std::optional<producer_request>& a, const producer_request& b) {
  return a && a->id == b.id && a->epoch == b.epoch && a->seq == b.seq;
}

append_decision fail(outcome o) {
  append_decision d;
  d.result = o;
  return d;
}

// A producer's request that is not accepted; false when it is.
bool producer_refusal(const producer_check& c, const producer_request& p,
                      append_decision& d) {
  switch (c.verdict) {
    case producer_verdict::accept:
      return false;
    case producer_verdict::duplicate:
      d.result = outcome::duplicate;
      d.has_producer = true;
      d.producer_epoch = p.epoch;
      d.producer_seq = c.last_seq;
      return true;
    case producer_verdict::stale_epoch:
      d.result = outcome::stale_epoch;
      d.has_producer = true;
      d.producer_epoch = c.current_epoch;
      return true;
    case producer_verdict::new_epoch_bad_seq:
      d.result = outcome::new_epoch_bad_seq;
      return true;
    case producer_verdict::sequence_gap:
      d.result = outcome::sequence_gap;
      d.expected_seq = c.expected_seq;
      d.received_seq = p.seq;
      return true;
  }
  return false;
}

void accept_producer(const producer_check& c, const producer_request& p, append_decision& d) {
  d.store_producer = true;
  d.producer_next = c.next;
  d.has_producer = true;
  d.producer_epoch = p.epoch;
  d.producer_seq = p.seq;
}

// Stream-Closed with an empty body: close, idempotently.
append_decision decide_close_only(const stream_meta& s,
                                  const std::optional<producer_state>& stored,
                                  const append_request& req) {
  append_decision d;
  d.result = outcome::closed;
  if (!req.producer) {
    d.close = !s.closed;
    return d;
  }
  const auto& p = *req.producer;
  if (s.closed) {
    if (!same_tuple(s.closed_by, p))
      return fail(outcome::stream_closed);
    d.result = outcome::duplicate;
    d.has_producer = true;
    d.producer_epoch = p.epoch;
    d.producer_seq = p.seq;
    return d;
  }
  auto check = check_producer(stored, p.epoch, p.seq);
  if (producer_refusal(check, p, d))
    return d;
  accept_producer(check, p, d);
  d.close = true;
  return d;
}

} // namespace

append_decision decide_append(const stream_meta& s, const std::optional<producer_state>& stored,
                              const append_request& req, int64_t max_stream_bytes) {
  bool empty = req.body.verdict == json_body::ok && req.body.messages == 0;
  if (req.close && empty)
    return decide_close_only(s, stored, req);
  if (empty)
    return fail(outcome::empty_body);
  if (req.content_type.empty() || !valid_content_type(req.content_type))
    return fail(outcome::missing_content_type);
  if (s.closed) {
    if (req.producer && same_tuple(s.closed_by, *req.producer)) {
      append_decision d;
      d.result = outcome::duplicate;
      d.has_producer = true;
      d.producer_epoch = req.producer->epoch;
      d.producer_seq = req.producer->seq;
      return d;
    }
    return fail(outcome::stream_closed);
  }
  if (!same_media_type(s.content_type, req.content_type))
    return fail(outcome::content_type_mismatch);
  append_decision d;
  if (req.producer) {
    auto check = check_producer(stored, req.producer->epoch, req.producer->seq);
    if (producer_refusal(check, *req.producer, d))
      return d;
    accept_producer(check, *req.producer, d);
  }
  if (req.stream_seq && s.stream_seq && *req.stream_seq <= *s.stream_seq)
    return fail(outcome::stream_seq_conflict);
  if (req.body.verdict == json_body::invalid)
    return fail(outcome::invalid_json);
  if (req.body.verdict == json_body::empty_array)
    return fail(outcome::empty_json_array);
  if (static_cast<int64_t>(req.body.data.size()) > max_stream_bytes - s.tail.bytes)
    return fail(outcome::stream_too_large);
  d.result = outcome::appended;
  d.write_data = true;
  d.close = req.close;
  d.store_stream_seq = req.stream_seq.has_value();
  return d;
}

} // namespace ebuse::streams
