// One pass over the request headers.
#include "http/request_headers.hpp"

#include <iterator>
#include <utility>
#include <vector>

namespace ebuse {

std::optional<std::string> request_headers::sent_content_type() const {
  if (!sent_multipart_type.empty())
    return sent_multipart_type;
  if (content_type)
    return *content_type;
  return std::nullopt;
}

void request_headers::scan(httplib::Request& req) {
  *this = request_headers{};
  // As the library's get_header_value: the first of repeated headers counts.
  bool have_key = false;
  bool have_auth = false;
  bool have_agent = false;
  bool have_encoding = false;
  for (auto& [name, value] : req.headers) {
    // Dispatch on length first: most names are rejected without a character compared.
    switch (name.size()) {
      case 9:
        if (iequals(name, "X-API-Key")) {
          if (!std::exchange(have_key, true))
            x_api_key = value;
        } else if (iequals(name, "Forwarded")) {
          forwarded = true;
        }
        break;
      case 10:
        if (iequals(name, "User-Agent") && !std::exchange(have_agent, true))
          user_agent = value;
        break;
      case 12:
        if (iequals(name, "Content-Type") && !content_type)
          content_type = &value;
        break;
      case 13:
        if (iequals(name, "Authorization") && !std::exchange(have_auth, true))
          authorization = value;
        break;
      case 14:
        if (iequals(name, "Content-Length") && content_length_count++ == 0)
          content_length = value;
        break;
      case 15:
        if (iequals(name, "Accept-Encoding")) {
          if (!std::exchange(have_encoding, true))
            accept_encoding = value;
        } else if (iequals(name, "X-Forwarded-For")) {
          forwarded = true;
        }
        break;
      case 17:
        if (iequals(name, "Transfer-Encoding") && transfer_encoding_count++ == 0)
          transfer_encoding = value;
        break;
      default:
        break;
    }
  }
}

const char* ambiguous_framing(const request_headers& headers) {
  if (headers.content_length_count > 1)
    return "more than one Content-Length header";
  if (headers.content_length_count == 1) {
    auto v = headers.content_length;
    if (v.empty() || v.size() > 19 || v.find_first_not_of("0123456789") != std::string::npos)
      return "Content-Length is not a decimal number";
    if (headers.transfer_encoding_count > 0)
      return "both Content-Length and Transfer-Encoding";
  }
  if (headers.transfer_encoding_count > 1)
    return "more than one Transfer-Encoding header";
  // The library reads only "chunked" as chunked; any other coding would be read until the
  // connection closes.
  if (headers.transfer_encoding_count == 1 && !iequals(headers.transfer_encoding, "chunked"))
    return "Transfer-Encoding other than chunked";
  return nullptr;
}

namespace {

struct raw_header {
  std::string_view name;
  std::string_view value;
};

bool space_or_tab(char c) {
  return c == ' ' || c == '\t';
}

// The header lines of `raw` split as the library splits them: the name up to the first
// ':', the value without the blanks around it.
std::vector<raw_header> split_header_lines(std::string_view raw) {
  std::vector<raw_header> out;
  while (!raw.empty()) {
    auto eol = raw.find("\r\n");
    auto line = raw.substr(0, eol);
    raw = eol == std::string_view::npos ? std::string_view{} : raw.substr(eol + 2);
    if (line.empty())
      break; // the blank line: the end of the head
    while (!line.empty() && space_or_tab(line.back()))
      line.remove_suffix(1);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto value = line.substr(colon + 1);
    while (!value.empty() && space_or_tab(value.front()))
      value.remove_prefix(1);
    out.push_back({line.substr(0, colon), value});
  }
  return out;
}

} // namespace

void restore_raw_header_values(httplib::Request& req, std::string_view raw) {
  auto lines = split_header_lines(raw);
  std::vector<std::string_view> done; // names already restored
  for (const auto& line : lines) {
    if (line.value.find('%') == std::string_view::npos)
      continue;
    bool seen = false;
    for (auto name : done)
      seen = seen || iequals(name, line.name);
    if (seen)
      continue;
    done.push_back(line.name);
    // The library keeps repeated headers in the order they came, as this walk does.
    std::vector<std::string_view> values;
    for (const auto& other : lines)
      if (iequals(other.name, line.name))
        values.push_back(other.value);
    auto range = req.headers.equal_range(std::string{line.name});
    if (static_cast<std::size_t>(std::distance(range.first, range.second)) != values.size())
      continue;
    std::size_t i = 0;
    for (auto it = range.first; it != range.second; ++it)
      it->second.assign(values[i++]);
  }
}

} // namespace ebuse
