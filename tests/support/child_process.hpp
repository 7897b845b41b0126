// The real ebuse binary as a child process: environment, stdout lines, signals, exit.
#pragma once

#include <chrono>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/spawn_args.hpp"

extern char** environ;

namespace ebuse::test {

/// Runs `EBUSE_BINARY args...` with `env` added to a minimal environment; stdout and
/// stderr are captured through pipes. Killed on destruction if still running.
class child_process {
public:
  child_process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                const std::string& cwd = {}) {
    int out[2], err[2];
    if (::pipe(out) != 0 || ::pipe(err) != 0)
      return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, err[0]);
    std::vector<std::string> argv_s = {EBUSE_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s = {"PATH=/usr/bin:/bin"};
    // A sanitizer build's child runs under the same sanitizer options (suppressions of
    // uninstrumented libraries among them) as the test itself.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
      if (const char* v = std::getenv(name))
        env_s.push_back(std::string{name} + "=" + v);
    for (auto& [k, v] : env)
      env_s.push_back(k + "=" + v);
    std::string bin = EBUSE_BINARY;
    if (!cwd.empty()) {
      // posix_spawn has no chdir before glibc 2.29's extension; run through sh.
      argv_s = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd, EBUSE_BINARY};
      argv_s.insert(argv_s.end(), args.begin(), args.end());
      bin = "/bin/sh";
    }
    auto argv = c_strings(argv_s);
    auto envp = c_strings(env_s);
    if (posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    out_fd_ = out[0];
    err_fd_ = err[0];
  }

  ~child_process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (out_fd_ >= 0)
      ::close(out_fd_);
    if (err_fd_ >= 0)
      ::close(err_fd_);
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool started() const {
    return pid_ > 0;
  }

  /// The child's process id (-1 if it did not start).
  pid_t pid() const {
    return pid_;
  }

  /// The next stdout line, waiting at most `timeout`; false at EOF or timeout.
  bool next_line(std::string& line, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = out_buf_.find('\n');
      if (nl != std::string::npos) {
        line = out_buf_.substr(0, nl);
        out_buf_.erase(0, nl + 1);
        all_out_ += line + "\n";
        return true;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - std::chrono::steady_clock::now())
                    .count();
      if (left <= 0 || !fill(out_fd_, out_buf_, static_cast<int>(left)))
        return false;
    }
  }

  /// Waits for the exit; returns the exit status, or -1 on timeout / signal death.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      int st = 0;
      auto r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      ::poll(nullptr, 0, 10);
    }
    return -1;
  }

  void signal(int sig) {
    ::kill(pid_, sig);
  }

  /// Everything on stderr until EOF (call after exit).
  std::string drain_stderr() {
    while (fill(err_fd_, err_buf_, 2000)) {
    }
    return err_buf_;
  }

  /// Everything on stdout until EOF (call after exit), after the lines already read.
  std::string drain_stdout() {
    while (fill(out_fd_, out_buf_, 2000)) {
    }
    return out_buf_;
  }

private:
  static bool fill(int fd, std::string& buf, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0)
      return false;
    char tmp[4096];
    auto n = ::read(fd, tmp, sizeof(tmp));
    if (n <= 0)
      return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  bool exited_ = false;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_buf_, err_buf_, all_out_;
};

} // namespace ebuse::test
