// Unit tests for how the accept loop reads a failed accept(): which failures it
// survives, and which of those it backs off from.
#include <catch2/catch.hpp>

#include <cerrno>

#include "http/connection.hpp"

using ebuse::accept_failure;
using ebuse::classify_accept_error;

TEST_CASE("accept() failures: out of resources backs off, an aborted connection does not",
          "[unit][accept]") {
  for (int err : {EMFILE, ENFILE, ENOBUFS, ENOMEM})
    CHECK(classify_accept_error(err) == accept_failure::resources);
  for (int err : {ECONNABORTED, EPROTO, ENETDOWN, EHOSTUNREACH, ENETUNREACH, EPERM})
    CHECK(classify_accept_error(err) == accept_failure::connection);
  for (int err : {EAGAIN, EWOULDBLOCK, EINTR})
    CHECK(classify_accept_error(err) == accept_failure::none);
  // The listening socket itself is gone: nothing to retry.
  for (int err : {EBADF, EINVAL, ENOTSOCK})
    CHECK(classify_accept_error(err) == accept_failure::fatal);
}
