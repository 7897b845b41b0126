// Durable Streams operations as the tenant writer carries them in its groups (internal).
#pragma once

#include <cstdint>
#include <vector>

#include <caf/error.hpp>

#include "actors/messages.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

/// A stream operation waiting in the writer's group.
struct stream_op {
  enum class kind { write, touch, sweep };
  kind k = kind::write;
  stream_write_cmd cmd;           ///< kind::write
  streams::write_result result;   ///< kind::write, once applied
  int64_t touch_id = 0;           ///< kind::touch
  int64_t touch_at = 0;           ///< kind::touch
  std::vector<int64_t> swept;     ///< kind::sweep: streams it expired
};

/// Applies `op` inside the writer's open transaction at `now_ms`. A storage fault is an
/// error (the group is rolled back); everything else lands in the op.
caf::error apply_stream_op(stream_writer& w, stream_op& op, int64_t now_ms);

/// Answers the requester of `op`, if it has one: its result, or `err`.
void answer_stream_op(stream_op& op, const caf::error& err);

/// Adds the streams `op` changed (after its commit) to `ids`, and its bytes to `bytes`.
void changed_streams(const stream_op& op, std::vector<int64_t>& ids, uint64_t& bytes);

} // namespace ebuse
