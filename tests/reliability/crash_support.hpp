// What the crash tests share: the server's environment and a client that expects the
// server to die under it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <httplib.h>

namespace ebuse::test {

/// A crash test's server: loopback, one key, `db`, 16 workers and no rate limit (every
/// writer is on 127.0.0.1 and must never be throttled).
inline std::vector<std::string> crash_server_env(const std::string& key, const std::string& db) {
  return {"PORT=0", "HOST=127.0.0.1", "API_KEY=" + key, "DB_PATH=" + db,
          "LOG_LEVEL=info", "RATE_LIMIT=0", "HTTP_THREADS=16"};
}

/// A client with `key` and short timeouts: the server may be killed mid-request.
inline std::unique_ptr<httplib::Client> crash_client(int port, const std::string& key) {
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", port);
  cli->set_connection_timeout(2);
  cli->set_read_timeout(10);
  cli->set_default_headers({{"X-API-Key", key}});
  return cli;
}

} // namespace ebuse::test
