// A single-tenant test server whose writer waits at a commit_gate before each group, so a
// test can queue appends into one group deterministically.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "support/commit_gate.hpp"
#include "support/eventually.hpp"
#include "support/http_helpers.hpp"
#include "support/test_server.hpp"

namespace ebuse::test {

/// A server on `path` whose writer waits at `gate` before each group transaction.
inline std::unique_ptr<test_server> gated_server(const std::string& path,
                                                 std::shared_ptr<commit_gate> gate) {
  auto cfg = quiet_config();
  auto ropts = test_server::single_tenant(path, cfg);
  ropts.defaults.writer.before_commit = commit_gate::hook(gate);
  return std::make_unique<test_server>(ropts, test_server::with_db(cfg, path));
}

/// Whether the tenant's writer comes to hold exactly `events` queued events.
inline bool queued(const test_server& srv, uint64_t events) {
  return eventually([&] { return srv.get_tenant()->stats().queued_events.load() == events; });
}

} // namespace ebuse::test
