// Creating streams and forks (with sub-offset prefixes), and confirming identical creates.
#include "storage/stream_store.hpp"

#include "core/errc.hpp"
#include "streams/content_type.hpp"
#include "streams/stream_config.hpp"

namespace ebuse {

using streams::outcome;

/// What a fork will be, worked out before anything is written.
struct stream_writer::fork_plan {
  streams::stream_meta meta;
  std::string prefix;          ///< the part of the source's next append it inherits
  int64_t prefix_messages = 0;
  streams::prepared_body body; ///< the initial body, prepared for the fork's type
};

namespace {

streams::write_result refuse(outcome o) {
  streams::write_result r;
  r.result = o;
  return r;
}

streams::write_result created(const streams::stream_meta& s) {
  streams::write_result r;
  r.result = outcome::created;
  r.stream_id = s.id;
  r.content_type = s.content_type;
  r.tail = s.tail;
  r.closed = s.closed;
  r.exp = s.exp;
  r.changed = true;
  return r;
}

} // namespace

caf::expected<streams::write_result> stream_writer::create(const streams::create_request& req,
                                                           int64_t now_ms) {
  streams::stream_meta s;
  auto found = find_live(req.path, now_ms, s);
  if (!found)
    return std::move(found.error());
  if (*found == lookup::soft_deleted)
    return refuse(outcome::path_held_by_forks);
  if (*found == lookup::live)
    return confirm(s, req);
  if (streams_ >= limits_.max_streams)
    return refuse(outcome::too_many_streams);
  return req.fork ? create_fork(req, now_ms) : create_new(req, now_ms);
}

caf::expected<streams::write_result> stream_writer::confirm(const streams::stream_meta& s,
                                                            const streams::create_request& req) {
  auto requested = req.exp;
  if (req.fork) {
    auto src = query_->by_path(req.fork->source_path);
    if (!src)
      return std::move(src.error());
    if (*src)
      requested = streams::fork_expiry(req.exp, (*src)->exp);
  }
  if (!streams::create_matches(s, req, requested))
    return refuse(outcome::config_conflict);
  auto r = created(s);
  r.result = outcome::exists;
  r.changed = false;
  return r;
}

caf::expected<streams::write_result> stream_writer::create_new(const streams::create_request& req,
                                                               int64_t now_ms) {
  if (req.body.verdict == streams::json_body::invalid)
    return refuse(outcome::invalid_json);
  if (static_cast<int64_t>(req.body.data.size()) > limits_.max_stream_bytes)
    return refuse(outcome::stream_too_large);
  streams::stream_meta s;
  s.path = req.path;
  s.content_type = req.content_type.empty() ? std::string{streams::default_content_type}
                                            : req.content_type;
  s.exp = req.exp;
  s.closed = req.closed;
  if (auto err = insert_stream(s, now_ms))
    return err;
  if (req.body.messages > 0) {
    if (auto err = insert_row(s.id, s.tail, req.body.messages, req.body.data))
      return err;
    if (auto err = save_state(s, now_ms))
      return err;
  }
  return created(s);
}

caf::expected<streams::write_result>
stream_writer::plan_fork(const streams::create_request& req, int64_t now_ms, fork_plan& plan) {
  const auto& f = *req.fork;
  streams::stream_meta src;
  auto found = find_live(f.source_path, now_ms, src);
  if (!found)
    return std::move(found.error());
  if (*found == lookup::absent)
    return refuse(outcome::fork_source_not_found);
  if (*found == lookup::soft_deleted)
    return refuse(outcome::fork_source_gone);
  if (!req.content_type.empty() && !streams::same_media_type(req.content_type, src.content_type))
    return refuse(outcome::content_type_mismatch);
  // The fork adds a level to its source's chain.
  auto view = query_->view(src, max_fork_depth - 1);
  if (!view) {
    if (code_of(view.error()) == errc::invalid_parameter)
      return refuse(outcome::fork_too_deep);
    return std::move(view.error());
  }
  auto at = f.at.value_or(src.tail);
  auto valid = query_->is_position(*view, at, src.tail);
  if (!valid)
    return std::move(valid.error());
  if (src.tail < at || !*valid)
    return refuse(outcome::bad_fork_offset);
  auto& m = plan.meta;
  m.path = req.path;
  m.content_type = req.content_type.empty() ? src.content_type : req.content_type;
  bool json = streams::is_json(m.content_type);
  if (f.sub_offset > 0) {
    // The source's next append after the fork point, of which the fork takes a part.
    bool found_next = false;
    auto err = query_->read(*view, at.seq, 1, 1, [&](const stream_row& row) {
      found_next = streams::take_sub_offset(row.data, json, f.sub_offset, plan.prefix);
    });
    if (err)
      return err;
    if (!found_next)
      return refuse(outcome::bad_sub_offset);
    plan.prefix_messages = json ? f.sub_offset : 1;
  }
  plan.body = req.body.json == json ? req.body : streams::prepare_body(req.body.data, json);
  if (plan.body.verdict == streams::json_body::invalid)
    return refuse(outcome::invalid_json);
  auto size = static_cast<int64_t>(plan.prefix.size() + plan.body.data.size());
  if (size > limits_.max_stream_bytes - at.bytes)
    return refuse(outcome::stream_too_large);
  m.exp = streams::fork_expiry(req.exp, src.exp);
  m.closed = req.closed;
  m.fork_source = src.id;
  m.fork_source_path = f.source_path;
  m.fork_offset = at;
  m.fork_offset_given = f.at.has_value();
  m.fork_sub_offset = f.sub_offset;
  m.tail = at;
  return created(m);
}

caf::expected<streams::write_result> stream_writer::create_fork(const streams::create_request& req,
                                                                int64_t now_ms) {
  fork_plan plan;
  auto planned = plan_fork(req, now_ms, plan);
  if (!planned || planned->result != outcome::created)
    return planned;
  auto& s = plan.meta;
  if (auto err = insert_stream(s, now_ms))
    return err;
  bool rows = false;
  if (plan.prefix_messages > 0) {
    if (auto err = insert_row(s.id, s.tail, plan.prefix_messages, plan.prefix))
      return err;
    rows = true;
  }
  if (plan.body.messages > 0) {
    if (auto err = insert_row(s.id, s.tail, plan.body.messages, plan.body.data))
      return err;
    rows = true;
  }
  if (rows) {
    if (auto err = save_state(s, now_ms))
      return err;
  }
  return created(s);
}

} // namespace ebuse
