// The real ebuse binary as a child process: started with an environment, its stdout
// collected, its port read from the start-up log line, stopped with any signal.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ebuse::test {

/// Path of the server binary under test, set by CMake.
inline const char* ebuse_binary() {
  return EBUSE_BINARY;
}

/// One running `ebuse` process. Its stdout is drained by a thread (so that logging never
/// blocks the server) and kept for inspection; stderr is kept the same way.
class child_server {
public:
  /// Starts `ebuse args...` with exactly `env` (NAME=VALUE) and waits for its port.
  explicit child_server(std::vector<std::string> env, std::vector<std::string> args = {}) {
    // Sanitizer settings (suppressions, halt_on_error) apply to the server as well.
    for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
      if (const char* v = std::getenv(name))
        env.push_back(std::string{name} + "=" + v);
    std::vector<std::string> argv_s{ebuse_binary()};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    // Everything exec needs is built before fork: the child only calls
    // async-signal-safe functions.
    std::vector<char*> argv, envp;
    for (auto& a : argv_s)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_reader_ = std::thread{[this, fd = out[0]] { drain(fd, stdout_); }};
    err_reader_ = std::thread{[this, fd = err[0]] { drain(fd, stderr_); }};
    port_ = wait_for_port(std::chrono::seconds(20));
  }

  ~child_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    if (out_reader_.joinable())
      out_reader_.join();
    if (err_reader_.joinable())
      err_reader_.join();
    // In sanitizer builds the server is instrumented too: its findings fail the tests.
    for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                               "WARNING: ThreadSanitizer", "runtime error:"}) {
      if (stderr_.find(marker) != std::string::npos) {
        std::fprintf(stderr, "sanitizer report from the ebuse child:\n%s\n", stderr_.c_str());
        std::_Exit(1); // not abort(): the test framework's signal handler is not async-safe
      }
    }
  }

  child_server(const child_server&) = delete;
  child_server& operator=(const child_server&) = delete;

  /// The bound port (0 when the server did not start).
  int port() const {
    return port_;
  }

  /// The process id (-1 once it has ended).
  pid_t pid() const {
    return pid_;
  }

  /// Sends `sig` to the process.
  void signal(int sig) {
    if (pid_ > 0)
      ::kill(pid_, sig);
  }

  /// Waits for the process to end and for all of its output; returns its exit status
  /// (128+N after signal N).
  int wait() {
    if (pid_ > 0) {
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
      pid_ = -1;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    // Also when the start-up wait already reaped it: its output may still be in the pipes.
    if (out_reader_.joinable())
      out_reader_.join();
    if (err_reader_.joinable())
      err_reader_.join();
    return status_;
  }

  /// Everything written to stdout so far.
  std::string output() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return stdout_;
  }

  /// Everything written to stderr so far.
  std::string errors() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return stderr_;
  }

private:
  void drain(int fd, std::string& into) {
    char buf[4096];
    for (;;) {
      auto n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      std::lock_guard<std::mutex> guard{mtx_};
      into.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
  }

  int wait_for_port(std::chrono::seconds limit) {
    static const std::regex port_re{R"("port":([0-9]+))"};
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      auto text = output();
      if (std::regex_search(text, m, port_re))
        return std::stoi(m[1]);
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return 0;
  }

  pid_t pid_ = -1;
  int status_ = -1;
  int port_ = 0;
  mutable std::mutex mtx_;
  std::string stdout_;
  std::string stderr_;
  std::thread out_reader_;
  std::thread err_reader_;
};

} // namespace ebuse::test
