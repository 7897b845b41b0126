// Runs initdb and postgres as children (as the `postgres` user when root) in a temp dir.
#include "support/pg_cluster.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ebuse::test {

namespace {

using clock = std::chrono::steady_clock;

// A port the kernel just handed out on 127.0.0.1; free again once closed (the server
// sets SO_REUSEADDR). A race with another process is caught by retrying the start.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("pg_cluster: no free port: " + std::string{std::strerror(errno)});
  ::close(fd);
  return ntohs(addr.sin_port);
}

struct spawn_spec {
  std::vector<std::string> argv;
  std::string cwd, log;
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  bool die_with_parent = false;
};

// fork + exec with only async-signal-safe calls in the child: everything is prepared
// before the fork (the test process may have other threads).
pid_t spawn(const spawn_spec& s) {
  std::vector<char*> argv;
  for (auto& a : s.argv)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const char* envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", "TZ=UTC", nullptr};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0)
    throw std::runtime_error("pg_cluster: fork failed");
  if (pid > 0)
    return pid;
  int log = ::open(s.log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  int null = ::open("/dev/null", O_RDONLY);
  if (log < 0 || null < 0 || ::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0)
    ::_exit(126);
  // The server must not keep the test's sockets (an HTTP listener) open.
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  if (s.switch_user
      && (::setgroups(1, &s.gid) != 0 || ::setgid(s.gid) != 0 || ::setuid(s.uid) != 0))
    ::_exit(126);
  // Set after the user switch (changing credentials clears it). SIGQUIT is PostgreSQL's
  // immediate shutdown.
  if (s.die_with_parent
      && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent))
    ::_exit(126);
  if (::chdir(s.cwd.c_str()) != 0)
    ::_exit(126);
  ::execve(argv[0], argv.data(), const_cast<char* const*>(envp));
  ::_exit(127);
}

// Waits for `pid` until `deadline`; true when it exited (status in `status`).
bool reap(pid_t pid, clock::time_point deadline, int& status) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD))
      return true;
    if (clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string read_tail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = ss.str();
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

} // namespace

pg_cluster::pg_cluster() {
  const char* bin = std::getenv("EBUSE_PG_BIN");
  bin_ = bin ? bin : "/usr/lib/postgresql/15/bin";
  if (::access((bin_ + "/initdb").c_str(), X_OK) != 0)
    throw std::runtime_error("pg_cluster: no initdb in " + bin_ + " (install postgresql-15)");
  std::string tmpl = (std::filesystem::temp_directory_path() / "ebuse-pg-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("pg_cluster: mkdtemp failed");
  dir_ = tmpl;
  try {
    create();
  } catch (...) {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    throw;
  }
}

void pg_cluster::create() {
  uid_ = ::getuid();
  gid_ = ::getgid();
  if (uid_ == 0) {
    // PostgreSQL refuses to run as root: use the system user its package creates.
    passwd* pw = ::getpwnam("postgres");
    if (!pw)
      throw std::runtime_error("pg_cluster: running as root but there is no `postgres` user");
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    switch_user_ = true;
    if (::chown(dir_.c_str(), uid_, gid_) != 0)
      throw std::runtime_error("pg_cluster: chown of " + dir_ + " failed");
  }
  spawn_spec init{{bin_ + "/initdb", "-D", dir_ + "/data", "-U", "ebuse", "-A", "trust", "-E",
                   "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                  dir_, dir_ + "/initdb.log", switch_user_, uid_, gid_, true};
  int status = 0;
  pid_t pid = spawn(init);
  if (!reap(pid, clock::now() + std::chrono::seconds(120), status) || !WIFEXITED(status)
      || WEXITSTATUS(status) != 0) {
    ::kill(pid, SIGKILL);
    reap(pid, clock::now() + std::chrono::seconds(10), status);
    throw std::runtime_error("pg_cluster: initdb failed:\n" + read_tail(init.log, 4000));
  }
  for (int attempt = 0;; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 4 || log_tail().find("Address already in use") == std::string::npos)
        throw;
    }
  }
}

pg_cluster::~pg_cluster() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void pg_cluster::launch() {
  spawn_spec run{{bin_ + "/postgres", "-D", dir_ + "/data", "-c", "port=" + std::to_string(port_),
                  "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir_,
                  "-c", "fsync=off", "-c", "full_page_writes=off", "-c",
                  "track_commit_timestamp=on", "-c", "max_connections=200", "-c",
                  "shared_buffers=64MB"},
                 dir_, dir_ + "/server.log", switch_user_, uid_, gid_, true};
  pid_ = spawn(run);
}

void pg_cluster::wait_ready() {
  auto deadline = clock::now() + std::chrono::seconds(60);
  std::string conninfo = "host=" + dir_ + " port=" + std::to_string(port_)
                         + " user=ebuse dbname=postgres connect_timeout=2";
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("pg_cluster: postgres exited at start:\n" + log_tail());
    }
    if (PQping(conninfo.c_str()) == PQPING_OK)
      return;
    if (clock::now() >= deadline) {
      stop();
      throw std::runtime_error("pg_cluster: postgres not ready in 60 s:\n" + log_tail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void pg_cluster::start() {
  if (running())
    return;
  launch();
  wait_ready();
}

void pg_cluster::stop() {
  if (pid_ <= 0)
    return;
  int status = 0;
  ::kill(pid_, SIGQUIT);
  if (!reap(pid_, clock::now() + std::chrono::seconds(20), status)) {
    ::kill(pid_, SIGKILL);
    reap(pid_, clock::now() + std::chrono::seconds(20), status);
  }
  pid_ = -1;
}

std::string pg_cluster::url(const std::string& db) const {
  return "postgresql://ebuse@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string pg_cluster::socket_url(const std::string& db) const {
  return "postgresql://ebuse@/" + db + "?host=" + dir_ + "&port=" + std::to_string(port_);
}

std::string pg_cluster::create_database() {
  std::string name = "t" + std::to_string(++databases_);
  PGconn* conn = PQconnectdb(url().c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    std::string sql = "CREATE DATABASE " + name
                      + " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'";
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
      error = PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(conn);
  if (!error.empty())
    throw std::runtime_error("pg_cluster: create database failed: " + error);
  return url(name);
}

std::string pg_cluster::log_tail(std::size_t max_bytes) const {
  return read_tail(dir_ + "/server.log", max_bytes);
}

pg_cluster& shared_pg() {
  static pg_cluster cluster;
  return cluster;
}

} // namespace ebuse::test
