// A small JSON-lines logger. Request threads append whole lines to a buffer; one writer
// thread hands the buffer to the output in a single write, so a request costs the
// formatting and a short lock, not a system call.
#include "obs/logger.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include <unistd.h>

#include "core/event_json.hpp"
#include "core/json_text.hpp"

namespace ebuse::log {

namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};

// Beyond this much pending output, writers wait: logs slow requests down rather than
// grow without bound or get lost when stdout is slower than the request rate.
constexpr std::size_t max_pending = 4u << 20;

struct output {
  std::mutex mtx;
  std::condition_variable has_data;
  std::condition_variable has_space;
  std::string pending;
  bool writing = false;
  bool sleeping = false; ///< the writer waits without a timeout: a new line must wake it
  bool started = false;
  int fd = STDOUT_FILENO;
};

// Never destroyed: lines may still be written while static objects are torn down.
output& out() {
  static output* o = new output;
  return *o;
}

void write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // nowhere to log to; the server keeps serving
    off += static_cast<size_t>(n);
  }
}

void writer_loop() {
  auto& o = out();
  std::string batch;
  std::unique_lock<std::mutex> lock{o.mtx};
  for (;;) {
    // After a batch, wait a little for more lines without being woken: under load the
    // request threads then never pay for waking the writer. Only an idle writer sleeps
    // until woken.
    if (!o.has_data.wait_for(lock, std::chrono::milliseconds(2),
                             [&] { return !o.pending.empty(); })) {
      o.sleeping = true;
      o.has_data.wait(lock, [&] { return !o.pending.empty(); });
      o.sleeping = false;
    }
    batch.swap(o.pending);
    o.writing = true;
    int fd = o.fd;
    lock.unlock();
    write_all(fd, batch);
    batch.clear();
    lock.lock();
    o.writing = false;
    o.has_space.notify_all();
  }
}

const char* level_name(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

void append_time(std::string& out) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = time_point_cast<seconds>(now);
  auto micros = duration_cast<microseconds>(now - secs).count();
  std::time_t tt = system_clock::to_time_t(secs);
  // The calendar part changes once a second: format it once per thread and second.
  thread_local std::time_t cached_tt = -1;
  thread_local char cached[80];
  if (tt != cached_tt) {
    std::tm tm;
    gmtime_r(&tt, &tm);
    std::snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_tt = tt;
  }
  char buf[40];
  std::memcpy(buf, cached, 20);
  for (int i = 25; i >= 20; --i, micros /= 10)
    buf[i] = static_cast<char>('0' + micros % 10);
  buf[26] = 'Z';
  buf[27] = '\0';
  out.append("{\"time\":\"").append(buf).append("\"");
}

void emit(std::string& line) {
  line.append("}\n");
  auto& o = out();
  std::unique_lock<std::mutex> lock{o.mtx};
  if (!o.started) {
    o.started = true;
    std::thread{writer_loop}.detach();
    std::atexit(flush);
  }
  if (o.pending.size() >= max_pending)
    o.has_space.wait(lock, [&] { return o.pending.size() < max_pending; });
  o.pending.append(line);
  if (o.sleeping || o.pending.size() >= max_pending / 2)
    o.has_data.notify_one();
}

// Text from clients (paths, user agents) may hold any bytes; logs stay valid JSON.
std::string safe_quoted(std::string_view s) {
  std::string out;
  if (json::valid_utf8(s)) {
    json::append_quoted(s, out);
    return out;
  }
  std::string cleaned;
  for (unsigned char c : s)
    cleaned.push_back(c < 0x80 ? static_cast<char>(c) : '?');
  json::append_quoted(cleaned, out);
  return out;
}

} // namespace

void set_level(std::string_view name) {
  level lvl = level::info;
  if (name == "debug")
    lvl = level::debug;
  else if (name == "warn")
    lvl = level::warn;
  else if (name == "error")
    lvl = level::error;
  min_level.store(static_cast<int>(lvl));
}

bool enabled(level lvl) noexcept {
  return static_cast<int>(lvl) >= min_level.load(std::memory_order_relaxed);
}

std::string str(std::string_view s) {
  return safe_quoted(s);
}

std::string num(int64_t v) {
  std::string out;
  append_int(out, v);
  return out;
}

void write(level lvl, std::string_view msg, const std::vector<field>& fields) {
  if (!enabled(lvl))
    return;
  std::string line;
  line.reserve(128);
  append_time(line);
  line.append(",\"level\":\"").append(level_name(lvl)).append("\",\"msg\":");
  line.append(safe_quoted(msg));
  for (const auto& [name, value] : fields) {
    line.append(",\"").append(name).append("\":").append(value);
  }
  emit(line);
}

void request(const request_line& r) {
  if (!enabled(level::info))
    return;
  std::string line;
  line.reserve(256);
  append_time(line);
  line.append(",\"level\":\"info\",\"msg\":\"request\",\"method\":");
  line.append(safe_quoted(r.method));
  line.append(",\"path\":").append(safe_quoted(r.path));
  line.append(",\"status\":");
  append_int(line, r.status);
  char dur[32];
  std::snprintf(dur, sizeof(dur), "%.3f", r.duration_ms);
  line.append(",\"duration_ms\":").append(dur);
  line.append(",\"bytes\":");
  append_int(line, static_cast<int64_t>(r.bytes));
  line.append(",\"ip\":").append(safe_quoted(r.ip));
  line.append(",\"tenant\":").append(safe_quoted(r.tenant));
  line.append(",\"user_agent\":").append(safe_quoted(r.user_agent));
  emit(line);
}

void flush() {
  auto& o = out();
  std::unique_lock<std::mutex> lock{o.mtx};
  o.has_space.wait_for(lock, std::chrono::seconds(2),
                       [&] { return o.pending.empty() && !o.writing; });
}

void set_output(int fd) {
  flush();
  std::lock_guard<std::mutex> guard{out().mtx};
  out().fd = fd;
}

} // namespace ebuse::log
