// Names and CAF plumbing for the domain error codes.
#include "core/errc.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace ebuse {

const char* to_code(errc x) noexcept {
  switch (x) {
    case errc::none: return "none";
    case errc::invalid_json: return "invalid_json";
    case errc::invalid_event: return "invalid_event";
    case errc::invalid_batch: return "invalid_batch";
    case errc::invalid_parameter: return "invalid_parameter";
    case errc::invalid_subscription: return "invalid_subscription";
    case errc::tenant_not_empty: return "tenant_not_empty";
    case errc::backup_in_progress: return "backup_in_progress";
    case errc::tenant_stopping: return "tenant_stopping";
    case errc::storage_unavailable: return "storage_unavailable";
    case errc::storage_busy: return "storage_busy";
    case errc::storage_full: return "storage_full";
    case errc::backup_no_space: return "backup_no_space";
    case errc::timeout: return "timeout";
    case errc::overloaded: return "overloaded";
    case errc::cancelled: return "cancelled";
    case errc::not_supported: return "not_supported";
    case errc::internal: return "internal";
  }
  return "internal";
}

std::string to_string(errc x) {
  return to_code(x);
}

caf::error make_error(errc x, std::string message) {
  return caf::make_error(x, std::move(message));
}

caf::error make_error(errc x, std::string message, int64_t retry_after_s) {
  return caf::make_error(x, std::move(message), retry_after_s);
}

int64_t retry_after_of(const caf::error& err) noexcept {
  const auto& ctx = err.context();
  if (ctx.size() == 2 && ctx.match_element<int64_t>(1))
    return ctx.get_as<int64_t>(1);
  return 0;
}

errc code_of(const caf::error& err) noexcept {
  if (!err)
    return errc::none;
  if (err.category() == caf::atom("system")) {
    // The actor system speaks for a tenant actor that is gone or did not answer.
    return err.code() == static_cast<uint8_t>(caf::sec::request_timeout)
             ? errc::timeout
             : errc::storage_unavailable;
  }
  if (err.category() != caf::atom("ebuse"))
    return errc::internal;
  return static_cast<errc>(err.code());
}

std::string message_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

} // namespace ebuse
