// Key extraction from request headers.
#include "http/auth.hpp"

namespace ebuse {

std::string_view extract_key(std::string_view x_api_key, std::string_view authorization) {
  if (!x_api_key.empty())
    return x_api_key;
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.substr(0, bearer.size()) == bearer)
    authorization.remove_prefix(bearer.size());
  return authorization;
}

} // namespace ebuse
