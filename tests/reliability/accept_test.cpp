// The accept loop against the real binary out of file descriptors: it logs, backs off
// and keeps accepting once descriptors are free again, instead of ending the server.
#include <signal.h>
#include <sys/resource.h>

#include <memory>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "reliability/child_server.hpp"
#include "support/eventually.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

TEST_CASE("the accept loop survives EMFILE and serves again once descriptors are free",
          "[hostile][accept]") {
  temp_dir dir;
  // Connections that never send a request are held for READ_TIMEOUT: longer than the test.
  child_server srv{{"PORT=0", "HOST=127.0.0.1", "API_KEY=acc-key", "DB_PATH=" + dir.file("a.db"),
                    "LOG_LEVEL=info", "RATE_LIMIT=0", "READ_TIMEOUT=60s", "HTTP_THREADS=4"}};
  REQUIRE(srv.port() > 0);
  auto cli = std::make_unique<httplib::Client>("127.0.0.1", srv.port());
  cli->set_default_headers({{"X-API-Key", "acc-key"}});
  cli->set_read_timeout(20);
  cli->set_keep_alive(false);
  // The tenant's files are open before the limit is lowered.
  REQUIRE(cli->Get("/position"));
  // A few descriptors more than the server holds now: a handful of connections take them.
  rlimit lim{};
  REQUIRE(::prlimit(srv.pid(), RLIMIT_NOFILE, nullptr, &lim) == 0);
  lim.rlim_cur = static_cast<rlim_t>(open_fds(srv.pid()) + 6);
  REQUIRE(::prlimit(srv.pid(), RLIMIT_NOFILE, &lim, nullptr) == 0);
  std::vector<std::unique_ptr<raw_socket>> held;
  for (int i = 0; i < 24; ++i) {
    held.push_back(std::make_unique<raw_socket>(srv.port()));
    REQUIRE(held.back()->connected()); // the kernel's backlog takes them all
  }
  // Out of descriptors: the server says so and keeps trying.
  CHECK(eventually([&] { return srv.output().find("accept failed; retrying") != std::string::npos; }));
  CHECK(srv.output().find("Too many open files") != std::string::npos);
  CHECK(::kill(srv.pid(), 0) == 0);
  held.clear();
  // Descriptors free again: a new client is served by the same process.
  CHECK(eventually([&] {
    auto r = cli->Get("/position");
    return r && r->status == 200;
  }));
  CHECK(srv.output().find("no longer accepting") == std::string::npos);
  CHECK(::kill(srv.pid(), 0) == 0);
}
