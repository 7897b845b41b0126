// Constant-time key checks and the single-tenant directory.
#include "http/auth.hpp"

#include "actors/tenant.hpp"

namespace ebuse {

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  // Scan the expected key's full length whatever the input's, so timing reveals
  // neither a matching prefix nor (beyond that) the length.
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

std::string_view extract_key(std::string_view x_api_key, std::string_view authorization) {
  if (!x_api_key.empty())
    return x_api_key;
  constexpr std::string_view bearer = "Bearer ";
  if (authorization.substr(0, bearer.size()) == bearer)
    authorization.remove_prefix(bearer.size());
  return authorization;
}

single_tenant_directory::single_tenant_directory(std::string key, std::shared_ptr<tenant> t)
  : key_(std::move(key)), tenant_(std::move(t)) {
}

std::shared_ptr<tenant> single_tenant_directory::find(std::string_view key) {
  if (key.empty() || !constant_time_equals(key, key_))
    return nullptr;
  return tenant_;
}

std::vector<std::string> single_tenant_directory::names() const {
  return {tenant_->name()};
}

bool single_tenant_directory::multi_tenant() const {
  return false;
}

std::vector<std::shared_ptr<tenant>> single_tenant_directory::running() const {
  return {tenant_};
}

} // namespace ebuse
