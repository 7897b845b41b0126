// Value types shared by the protocol layer, the stream store and the tenant actors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "streams/json_batch.hpp"
#include "streams/offset.hpp"

namespace ebuse::streams {

/// When a stream expires: never, `ttl_seconds` after its last read or write (sliding),
/// or at `expires_at_ms` (Unix milliseconds). At most one of the two is set.
struct expiry {
  std::optional<int64_t> ttl_seconds;
  std::optional<int64_t> expires_at_ms;
};

/// The Producer-Id/Epoch/Seq of a request.
struct producer_request {
  std::string id;
  int64_t epoch = 0;
  int64_t seq = 0;
};

/// What the server remembers of a producer on one stream.
struct producer_state {
  int64_t epoch = 0;
  int64_t last_seq = 0;
};

/// A stream as stored.
struct stream_meta {
  int64_t id = 0; ///< internal, never reused: a stream re-created at a path is another
  std::string path;
  std::string content_type;
  expiry exp;
  int64_t last_access_ms = 0;
  bool closed = false;
  bool soft_deleted = false; ///< deleted or expired while forks still read its data
  offset tail;
  std::optional<std::string> stream_seq;     ///< the highest Stream-Seq appended
  std::optional<producer_request> closed_by; ///< the producer tuple that closed it
  int64_t fork_source = 0;                   ///< id of the source; 0: not a fork
  std::string fork_source_path;
  offset fork_offset;             ///< where it diverges from its source
  bool fork_offset_given = false; ///< Stream-Fork-Offset was sent (else: source tail)
  int64_t fork_sub_offset = 0;    ///< Stream-Fork-Sub-Offset as sent
};

/// A request body in its stored form.
struct prepared_body {
  std::string data;      ///< the bytes; in JSON mode the messages joined by commas
  int64_t messages = 0;  ///< messages it adds (a non-empty byte body is one)
  bool json = false;     ///< prepared for JSON mode
  json_body verdict = json_body::ok; ///< JSON mode: whether it is usable
  std::string detail;    ///< why it is invalid
};

/// Prepares `body` for a stream in JSON mode (`json`) or byte mode.
prepared_body prepare_body(std::string body, bool json);

/// Fork headers of a create.
struct fork_request {
  std::string source_path;
  std::optional<offset> at; ///< Stream-Fork-Offset; absent: the source's tail
  int64_t sub_offset = 0;   ///< Stream-Fork-Sub-Offset
};

/// PUT: create a stream (or a fork), or confirm an existing one.
struct create_request {
  std::string path;
  std::string content_type; ///< as sent; empty when absent or not a valid type
  expiry exp;
  bool closed = false;
  std::optional<fork_request> fork;
  prepared_body body; ///< prepared for the request's own content type
};

/// POST: append, append and close, or close.
struct append_request {
  std::string path;
  std::string content_type; ///< as sent; empty when absent
  prepared_body body;
  bool close = false;
  std::optional<std::string> stream_seq;
  std::optional<producer_request> producer;
};

/// GET and HEAD.
struct read_request {
  std::string path;
  offset_spec from;
  bool meta_only = false;   ///< HEAD: metadata, no data
  int64_t max_bytes = 1 << 20; ///< data budget; at least one append is always returned
  int64_t max_rows = 10000;    ///< appends budget
};

/// Every result of an operation on a stream; the protocol layer maps each to a status,
/// a stable code and its headers (see response.hpp).
enum class outcome : uint8_t {
  ok,                   ///< a read
  created,              ///< 201
  exists,               ///< 200: an identical create
  appended,             ///< 204 (200 with producer headers)
  closed,               ///< 204: closed, or already closed (close-only)
  duplicate,            ///< 204: a producer retry, nothing written
  deleted,              ///< 204
  not_found,            ///< 404
  fork_source_not_found, ///< 404
  gone,                 ///< 410: soft-deleted
  config_conflict,      ///< 409: exists with another configuration
  path_held_by_forks,   ///< 409: soft-deleted stream still occupies the path
  fork_source_gone,     ///< 409: the source is soft-deleted
  content_type_mismatch, ///< 409
  stream_closed,        ///< 409 with Stream-Closed
  stream_seq_conflict,  ///< 409: Stream-Seq not above the last one
  sequence_gap,         ///< 409 with Producer-Expected-Seq / Producer-Received-Seq
  stale_epoch,          ///< 403 with Producer-Epoch
  new_epoch_bad_seq,    ///< 400: a new epoch must start at seq 0
  empty_body,           ///< 400
  missing_content_type, ///< 400
  invalid_json,         ///< 400
  empty_json_array,     ///< 400
  bad_offset,           ///< 400: not an offset of this stream
  bad_fork_offset,      ///< 400: malformed or past the source's tail
  bad_sub_offset,       ///< 400: past the next append of the source
  fork_too_deep,        ///< 400: the source is a fork chain at the depth limit
  too_many_streams,     ///< 507: the tenant holds DS_MAX_STREAMS streams
  stream_too_large,     ///< 413: the append would pass DS_MAX_STREAM_BYTES
};

/// The result of a create, append, close or delete.
struct write_result {
  outcome result = outcome::not_found;
  int64_t stream_id = 0;
  std::string content_type;
  offset tail;
  bool closed = false;
  expiry exp;
  bool has_producer = false;  ///< echo Producer-Epoch / Producer-Seq
  int64_t producer_epoch = 0; ///< echoed, or the current epoch on stale_epoch
  int64_t producer_seq = 0;   ///< the highest accepted seq
  int64_t expected_seq = 0;   ///< sequence_gap
  int64_t received_seq = 0;   ///< sequence_gap
  bool changed = false;       ///< data or state changed: waiting readers should look
  std::string detail;         ///< for errors, a human-readable reason
};

/// The result of a read or a HEAD.
struct read_result {
  outcome result = outcome::not_found;
  stream_meta meta;
  std::string payload;    ///< the bytes; in JSON mode the messages as one JSON array
  int64_t appends = 0;    ///< stored appends in the payload
  offset next;            ///< where the next read starts
  bool up_to_date = false; ///< next is the tail as of the read
  std::string detail;
};

} // namespace ebuse::streams
