// One pass over the request headers.
#include "http/request_headers.hpp"

#include <utility>

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

} // namespace ebuse
