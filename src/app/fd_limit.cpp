// Raising RLIMIT_NOFILE's soft value to its hard value.
#include "app/fd_limit.hpp"

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

} // namespace ebuse
