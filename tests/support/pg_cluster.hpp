// A private PostgreSQL 15 server for a test run: initdb, start, stop, restart, databases.
#pragma once

#include <memory>
#include <string>

#include <sys/types.h>

namespace ebuse::test {

/// One PostgreSQL cluster in a temp dir, owned by this process. As root it runs as the
/// `postgres` system user (PostgreSQL refuses to run as root), otherwise as the current
/// user. It listens on 127.0.0.1 at a free port and on a Unix socket in its temp dir, runs
/// with fsync off, trusts local connections (user `ebuse`), and dies with its creator
/// (parent-death signal), so a crashed test run leaves no server behind. Failures throw
/// std::runtime_error with the tail of the server's log.
class pg_cluster {
public:
  /// Creates (initdb) and starts a cluster.
  pg_cluster();
  /// Stops the server (immediate) and removes the temp dir.
  ~pg_cluster();
  pg_cluster(const pg_cluster&) = delete;
  pg_cluster& operator=(const pg_cluster&) = delete;

  /// Stops the server as `pg_ctl stop -m immediate` does (SIGQUIT to the postmaster's
  /// PID) and reaps it: connections drop at once, the next start runs crash recovery.
  void stop();
  /// Starts the server again on the same port and socket, waiting until it accepts
  /// connections (after crash recovery).
  void start();
  /// Whether the server runs (started and not stopped).
  bool running() const noexcept {
    return pid_ > 0;
  }

  /// The TCP port on 127.0.0.1.
  int port() const noexcept {
    return port_;
  }
  /// The directory of the Unix socket.
  const std::string& socket_dir() const noexcept {
    return dir_;
  }
  /// The URL of database `db` over TCP loopback.
  std::string url(const std::string& db = "postgres") const;
  /// The URL of database `db` over the Unix socket.
  std::string socket_url(const std::string& db = "postgres") const;

  /// Creates a fresh, empty UTF-8 database and returns its (TCP) URL.
  std::string create_database();

  /// The server's log so far (for failure messages).
  std::string log_tail(std::size_t max_bytes = 4000) const;

private:
  void create();
  void launch();
  void wait_ready();

  std::string dir_;   // temp dir: socket, log, data/
  std::string bin_;   // PostgreSQL's bin directory
  uid_t uid_ = 0;     // user the server runs as
  gid_t gid_ = 0;
  bool switch_user_ = false;
  int port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

/// The cluster shared by the tests of this process, started on first use and stopped at
/// exit. Tests that stop or restart PostgreSQL start a cluster of their own.
pg_cluster& shared_pg();

} // namespace ebuse::test
