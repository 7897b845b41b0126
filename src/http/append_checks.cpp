// expected_position and Idempotency-Key on POST /events and /events/batch: parse, answer.
#include "http/append_checks.hpp"

#include "core/decimal.hpp"
#include "core/key_digest.hpp"
#include "http/codec.hpp"
#include "http/handlers.hpp"

namespace ebuse {

namespace {

constexpr std::size_t max_key_bytes = 255;

bool valid_key(const std::string& key) {
  if (key.empty() || key.size() > max_key_bytes)
    return false;
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e)
      return false;
  return true;
}

// Reads a decimal int64 at the front of `text`, then skips one space.
bool take_int(std::string_view& text, int64_t& out) {
  auto end = text.find(' ');
  auto digits = text.substr(0, end);
  if (digits.empty() || !parse_int64(digits, out))
    return false;
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return true;
}

void refuse(httplib::Response& res, int status, const char* code, const std::string& message,
            const std::string& extra = {}) {
  send_json(res, "{\"error\":\"" + message + "\",\"code\":\"" + code + "\"" + extra + "}\n",
            status);
}

} // namespace

bool parse_append_checks(const httplib::Request& req, const std::string& body,
                         httplib::Response& res, append_checks& out) {
  if (req.has_param("expected_position")) {
    auto v = parse_position_param("expected_position", req.get_param_value("expected_position"),
                                  false);
    if (!v) {
      refuse(res, 400, "invalid_expected_position",
             "invalid 'expected_position' parameter: expected a non-negative integer");
      return false;
    }
    out.expected_head = *v;
  }
  if (req.has_header("Idempotency-Key")) {
    auto key = req.get_header_value("Idempotency-Key");
    if (!valid_key(key)) {
      refuse(res, 400, "invalid_idempotency_key",
             "invalid Idempotency-Key: expected 1 to 255 visible ASCII characters");
      return false;
    }
    out.key = std::move(key);
    out.body_sha256 = digest_key(digest_of(body));
  }
  return true;
}

std::string compact_response(const append_result& positions, std::string_view timestamp) {
  std::string out = "=";
  out += std::to_string(positions.first);
  out += ' ';
  out += std::to_string(positions.last);
  if (!timestamp.empty()) {
    out += ' ';
    out.append(timestamp);
  }
  return out;
}

std::string replay_response(const std::string& stored, const append_replay& replay) {
  if (stored.empty() || stored[0] != '=')
    return stored;
  std::string_view rest{stored};
  rest.remove_prefix(1);
  append_result positions;
  if (!take_int(rest, positions.first) || !take_int(rest, positions.last))
    return stored;
  return replay(positions, rest);
}

append_request checked_request(std::vector<new_event> events, append_checks&& checks,
                               append_render store) {
  append_request a;
  a.events = std::move(events);
  a.expected_head = checks.expected_head;
  if (checks.key) {
    idempotency_claim claim;
    claim.key = std::move(*checks.key);
    claim.body_sha256 = std::move(checks.body_sha256);
    claim.status = 200;
    claim.render = std::move(store);
    a.idempotency = std::move(claim);
  }
  return a;
}

void send_outcome(const httplib::Request& req, httplib::Response& res,
                  const caf::expected<append_outcome>& out, const append_render& render,
                  const append_replay& replay) {
  if (!out)
    return send_error(req, res, out.error());
  switch (out->status) {
    case append_status::applied:
      return send_json(res, render(out->positions));
    case append_status::replayed:
      res.set_header("Idempotent-Replayed", "true");
      return send_json(res, replay_response(out->replay_body, replay), out->replay_status);
    case append_status::conflict:
      return refuse(res, 409, "position_conflict",
                    "the log's head is not at expected_position",
                    ",\"head\":" + std::to_string(out->head));
    case append_status::key_reused:
      return refuse(res, 422, "idempotency_key_reuse",
                    "this Idempotency-Key was used with another request body");
  }
}

} // namespace ebuse
