// Media type normalisation and the two properties the protocol attaches to a type.
#include "streams/content_type.hpp"

#include "core/ascii.hpp"

namespace ebuse::streams {

namespace {

bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  for (char t : std::string_view{"!#$%&'*+-.^_`|~"})
    if (c == t)
      return true;
  return false;
}

} // namespace

std::string media_type(std::string_view content_type) {
  auto semi = content_type.find(';');
  auto type = trim_ows(content_type.substr(0, semi));
  std::string out;
  out.reserve(type.size());
  for (char c : type)
    out.push_back(ascii_lower(c));
  return out;
}

bool valid_content_type(std::string_view v) noexcept {
  if (v.empty() || v.size() > max_content_type_size)
    return false;
  for (char c : v)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t')
      return false;
  auto type = trim_ows(v.substr(0, v.find(';')));
  auto slash = type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == type.size())
    return false;
  for (std::size_t i = 0; i < type.size(); ++i)
    if (i != slash && !is_tchar(type[i]))
      return false;
  for (char c : v)
    if (static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return true;
}

bool same_media_type(std::string_view a, std::string_view b) {
  return media_type(a) == media_type(b);
}

bool is_json(std::string_view content_type) {
  return media_type(content_type) == "application/json";
}

bool sse_is_text(std::string_view content_type) {
  auto mt = media_type(content_type);
  return mt.rfind("text/", 0) == 0 || mt == "application/json";
}

} // namespace ebuse::streams
