// API keys: where a request carries one, and which tenant it opens.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ebuse {

class tenant;

/// Compares two keys in time independent of where they differ.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

/// The key of a request: `X-API-Key`, else `Authorization: Bearer KEY` (as the original:
/// an Authorization value without the Bearer prefix is taken whole).
std::string_view extract_key(std::string_view x_api_key, std::string_view authorization);

/// Maps API keys to running tenants.
class tenant_directory {
public:
  virtual ~tenant_directory() = default;

  /// The tenant opened by `key`, or null.
  virtual std::shared_ptr<tenant> find(std::string_view key) = 0;

  /// Names of the configured tenants.
  virtual std::vector<std::string> names() const = 0;

  /// Whether the server runs several tenants (adds `tenant` to /metrics).
  virtual bool multi_tenant() const = 0;

  /// Every running tenant (for /health and shutdown).
  virtual std::vector<std::shared_ptr<tenant>> running() const = 0;
};

/// The single-tenant mode: one key, one tenant.
class single_tenant_directory : public tenant_directory {
public:
  single_tenant_directory(std::string key, std::shared_ptr<tenant> t);

  std::shared_ptr<tenant> find(std::string_view key) override;
  std::vector<std::string> names() const override;
  bool multi_tenant() const override;
  std::vector<std::shared_ptr<tenant>> running() const override;

private:
  std::string key_;
  std::shared_ptr<tenant> tenant_;
};

} // namespace ebuse
