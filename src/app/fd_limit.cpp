// Raising RLIMIT_NOFILE's soft value to its hard value.
#include "app/fd_limit.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/resource.h>

namespace ebuse {

namespace {

int64_t as_count(rlim_t v) {
  return v == RLIM_INFINITY ? INT64_MAX : static_cast<int64_t>(v);
}

} // namespace

fd_limit raise_fd_limit() noexcept {
  fd_limit out;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  out.before = out.now = as_count(lim.rlim_cur);
  out.hard = as_count(lim.rlim_max);
  if (lim.rlim_cur == lim.rlim_max)
    return out;
  rlimit raised = lim;
  raised.rlim_cur = lim.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    out.error = std::strerror(errno);
    return out;
  }
  out.now = out.hard;
  return out;
}

int64_t open_tenant_budget(int64_t descriptor_limit, std::size_t reader_connections) noexcept {
  constexpr int64_t margin = 256;
  auto clients = std::max<int64_t>(1024, descriptor_limit / 4);
  auto readers = 2 * static_cast<int64_t>(std::min<std::size_t>(reader_connections, INT32_MAX));
  auto left = descriptor_limit - readers - clients - margin;
  return std::clamp<int64_t>(left / descriptors_per_tenant, 16, 1000000);
}

} // namespace ebuse
