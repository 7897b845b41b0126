// Dispatch of the stream operations of a writer group to the stream store.
#include "actors/stream_ops.hpp"

namespace ebuse {

namespace {

// Overloads for std::visit.
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

} // namespace

caf::error apply_stream_op(stream_writer& w, stream_op& op, int64_t now_ms) {
  switch (op.k) {
    case stream_op::kind::touch:
      return w.touch(op.touch_id, op.touch_at);
    case stream_op::kind::sweep: {
      auto ids = w.expire(now_ms);
      if (!ids)
        return std::move(ids.error());
      op.swept = std::move(*ids);
      return caf::none;
    }
    case stream_op::kind::write:
      break;
  }
  auto res = std::visit(
    overloaded{
      [&](const streams::create_request& r) { return w.create(r, now_ms); },
      [&](const streams::append_request& r) { return w.append(r, now_ms); },
      [&](const stream_delete& r) { return w.remove(r.path, now_ms); },
    },
    op.cmd.op);
  if (!res)
    return std::move(res.error());
  op.result = std::move(*res);
  return caf::none;
}

void answer_stream_op(stream_op& op, const caf::error& err) {
  if (op.k != stream_op::kind::write || !op.cmd.reply)
    return;
  if (err)
    deliver<streams::write_result>(op.cmd.reply, err);
  else
    deliver<streams::write_result>(op.cmd.reply, op.result);
}

void changed_streams(const stream_op& op, std::vector<int64_t>& ids, uint64_t& bytes) {
  if (op.k == stream_op::kind::sweep) {
    ids.insert(ids.end(), op.swept.begin(), op.swept.end());
    return;
  }
  if (op.k != stream_op::kind::write || !op.result.changed)
    return;
  ids.push_back(op.result.stream_id);
  if (auto* a = std::get_if<streams::append_request>(&op.cmd.op))
    bytes += a->body.data.size();
}

} // namespace ebuse
