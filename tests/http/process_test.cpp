// Tests of the real binary: SIGTERM under write load, log lines, exit codes, --help.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include "support/child_process.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

// Reads stdout up to the start-up line and returns it parsed (null on failure).
json wait_started(child_process& p) {
  std::string line;
  while (p.next_line(line, 10000ms)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == "ebuse started")
      return j;
  }
  return nullptr;
}

// Collects stdout lines on a thread so that the child never blocks on a full pipe.
struct line_collector {
  child_process& p;
  std::mutex mtx;
  std::vector<std::string> lines;
  std::thread th;

  explicit line_collector(child_process& proc) : p(proc) {
    th = std::thread{[this] {
      std::string line;
      while (p.next_line(line, 30000ms)) {
        std::lock_guard<std::mutex> guard{mtx};
        lines.push_back(line);
      }
    }};
  }
  ~line_collector() {
    if (th.joinable())
      th.join();
  }
  // Waits for the child's stdout to end (it exited), then returns every line.
  std::vector<std::string> finish() {
    th.join();
    return lines;
  }
};

} // namespace

TEST_CASE("SIGTERM under write load loses no acknowledged event and exits 0",
          "[sqlite][http][process][shutdown]") {
  temp_dir dir;
  const std::string db = dir.file("events.db");
  child_process p({}, {{"PORT", "0"}, {"HOST", "127.0.0.1"}, {"API_KEY", "k"},
                       {"DB_PATH", db}, {"RATE_LIMIT", "0"}, {"SHUTDOWN_TIMEOUT", "5s"}});
  REQUIRE(p.started());
  auto started = wait_started(p);
  REQUIRE(started.is_object());
  int port = started.value("port", 0);
  REQUIRE(port > 0);
  line_collector logs{p};

  constexpr int writers = 8;
  std::atomic<bool> signalled{false};
  std::atomic<int> acked_total{0};
  std::vector<std::map<int64_t, std::string>> acked(writers); // position -> data
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      httplib::Client cli{"127.0.0.1", port};
      cli.set_connection_timeout(2);
      cli.set_read_timeout(10);
      cli.set_default_headers({{"X-API-Key", "k"}});
      auto deadline = std::chrono::steady_clock::now() + 20s;
      for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
        std::string data = "{\"w\":" + std::to_string(w) + ",\"i\":" + std::to_string(i) + "}";
        auto r = cli.Post("/events", event_body("load", data), "application/json");
        if (r && r->status == 200) {
          auto j = json::parse(r->body, nullptr, false);
          if (!j.is_discarded())
            acked[w][j.value("position", int64_t{0})] = data;
          acked_total.fetch_add(1);
        } else if (signalled.load()) {
          break; // 503 shutting_down, or the connection closed: the server is going
        }
      }
    });
  auto until = std::chrono::steady_clock::now() + 10s;
  while (acked_total.load() < 400 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  REQUIRE(acked_total.load() >= 400);
  signalled.store(true);
  p.signal(SIGTERM);
  for (auto& t : threads)
    t.join();
  int code = p.wait_exit(15000ms);
  CHECK(code == 0);
  auto lines = logs.finish();
  bool stopped_clean = false;
  for (auto& l : lines)
    if (l.find("\"msg\":\"ebuse stopped\"") != std::string::npos
        && l.find("\"clean\":true") != std::string::npos)
      stopped_clean = true;
  CHECK(stopped_clean);

  // Restart on the same file: every acknowledged event is there, unchanged.
  test_server srv{db, quiet_config()};
  auto cli = srv.client();
  int64_t head = srv.get_tenant()->stats().head.load();
  auto all = parse_array(get(*cli, "/events?from=1&to=" + std::to_string(head)).body);
  std::map<int64_t, json> stored;
  for (auto& e : all)
    stored[e["position"].get<int64_t>()] = e["data"];
  size_t checked = 0, missing = 0;
  for (auto& m : acked)
    for (auto& [pos, data] : m) {
      ++checked;
      auto i = stored.find(pos);
      if (i == stored.end() || i->second != json::parse(data))
        ++missing;
    }
  CHECK(checked == static_cast<size_t>(acked_total.load()));
  CHECK(missing == 0);
  CHECK(static_cast<int64_t>(all.size()) == head); // dense positions 1..head
}

TEST_CASE("request log lines carry every field; keys never reach the logs",
          "[http][process][logs]") {
  temp_dir dir;
  const std::string key = "very-secret-key-4711";
  child_process p({}, {{"PORT", "0"}, {"HOST", "127.0.0.1"}, {"API_KEY", key},
                       {"DB_PATH", dir.file("events.db")}, {"TRUSTED_PROXIES", "127.0.0.1"},
                       {"READ_TIMEOUT", "1m30s"}});
  REQUIRE(p.started());
  auto started = wait_started(p);
  REQUIRE(started.is_object());
  CHECK(started.value("api_key", "") == "set (redacted)");
  CHECK(started.value("read_timeout", "") == "1m30s");
  CHECK(started.value("trusted_proxies", "") == "127.0.0.1");
  for (auto f : {"host", "rate_limit", "rate_burst", "enable_gzip", "gzip_min_bytes",
                 "write_timeout", "idle_timeout", "shutdown_timeout", "http_threads",
                 "max_body_bytes", "log_level", "version", "time", "level"})
    CHECK(started.contains(f));
  int port = started.value("port", 0);
  line_collector logs{p};

  httplib::Client cli{"127.0.0.1", port};
  cli.set_decompress(false);
  cli.set_default_headers({{"X-API-Key", key}, {"User-Agent", "agent-test/1"},
                           {"X-Forwarded-For", "203.0.113.7"}});
  REQUIRE(cli.Post("/events/batch", make_batch(1, 300), "application/json")->status == 200);
  auto stream = cli.Get("/events/stream?from=1", {{"Accept-Encoding", "gzip"}});
  REQUIRE(stream);
  CHECK(stream->get_header_value("Content-Encoding") == "gzip");
  auto plain_stream = cli.Get("/events/stream?from=1&batch_size=7");
  REQUIRE(plain_stream);
  auto unauthorized = cli.Get("/position", {{"X-API-Key", "wrong"}});
  p.signal(SIGTERM);
  CHECK(p.wait_exit(10000ms) == 0);
  auto lines = logs.finish();

  std::vector<json> requests;
  for (auto& l : lines) {
    CHECK(l.find(key) == std::string::npos);
    auto j = json::parse(l, nullptr, false);
    REQUIRE_FALSE(j.is_discarded()); // every stdout line is one JSON object
    if (j.value("msg", "") == "request")
      requests.push_back(j);
  }
  CHECK(p.drain_stderr().find(key) == std::string::npos);
  REQUIRE(requests.size() == 4);
  for (auto& r : requests) {
    for (auto f : {"time", "level", "method", "path", "status", "duration_ms", "bytes", "ip",
                   "tenant", "user_agent"})
      CHECK(r.contains(f));
    CHECK(r.value("ip", "") == "203.0.113.7"); // resolved through the trusted proxy
    CHECK(r.value("user_agent", "") == "agent-test/1");
    CHECK(r["duration_ms"].is_number());
  }
  // A line is written once its response is sent, so the client may send its next
  // request first: lines are found by what they describe, not by their order.
  auto line_for = [&](const std::string& path, auto pred) -> json {
    for (auto& r : requests)
      if (r.value("path", "") == path && pred(r))
        return r;
    return json::object();
  };
  auto any = [](const json&) { return true; };
  auto batch = line_for("/events/batch", any);
  CHECK(batch.value("method", "") == "POST");
  CHECK(batch.value("tenant", "") == "default");
  // Streamed (chunked) bodies are counted as sent: compressed, and not.
  auto gz = line_for("/events/stream", [&](const json& r) {
    return r.value("bytes", size_t{0}) == stream->body.size();
  });
  CHECK(gz.value("status", 0) == 200);
  auto plain = line_for("/events/stream", [&](const json& r) {
    return r.value("bytes", size_t{0}) == plain_stream->body.size();
  });
  CHECK(plain.value("status", 0) == 200);
  CHECK(stream->body.size() != plain_stream->body.size());
  auto refused = line_for("/position", any);
  CHECK(refused.value("status", 0) == 401);
  CHECK(refused.value("tenant", "x") == "");
}

TEST_CASE("invalid configuration exits 2 naming the variable", "[http][process][config]") {
  struct row {
    const char* name;
    const char* value;
  };
  for (auto [name, value] : {row{"PORT", "eighty"}, row{"READ_TIMEOUT", "30"},
                             row{"RATE_LIMIT", "-1"}, row{"ENABLE_GZIP", "maybe"},
                             row{"TRUSTED_PROXIES", "10.0.0.0/40"}, row{"LOG_LEVEL", "trace"},
                             row{"HTTP_THREADS", "0"}, row{"SHUTDOWN_TIMEOUT", "1x"}}) {
    INFO(name << "=" << value);
    child_process p({}, {{name, value}});
    CHECK(p.wait_exit(10000ms) == 2);
    auto err = p.drain_stderr();
    CHECK(err.find(name) != std::string::npos);
    CHECK(err.find("expected") != std::string::npos);
  }
  child_process bad_arg({"--bogus"}, {});
  CHECK(bad_arg.wait_exit(10000ms) == 2);
  CHECK(bad_arg.drain_stderr().find("--bogus") != std::string::npos);
}

TEST_CASE("--help, --version, and a start-up error with its cause", "[http][process][config]") {
  child_process help({"--help"}, {});
  CHECK(help.wait_exit(10000ms) == 0);
  auto text = help.drain_stdout();
  for (auto v : {"HOST", "PORT", "API_KEY", "DB_PATH", "RATE_LIMIT", "RATE_BURST",
                 "RATE_LIMIT_PER_KEY", "RATE_BURST_PER_KEY", "TRUSTED_PROXIES", "ENABLE_GZIP",
                 "GZIP_MIN_BYTES", "READ_TIMEOUT", "WRITE_TIMEOUT", "IDLE_TIMEOUT",
                 "SHUTDOWN_TIMEOUT", "REQUEST_TIMEOUT", "HTTP_THREADS", "MAX_BODY_BYTES",
                 "READERS", "WAL_AUTOCHECKPOINT", "STORE_LINGER", "LOG_LEVEL"})
    CHECK(text.find(std::string{"\n  "} + v + " ") != std::string::npos);
  child_process version({"--version"}, {});
  CHECK(version.wait_exit(10000ms) == 0);
  CHECK(version.drain_stdout().rfind("ebuse ", 0) == 0);

  child_process no_db({}, {{"PORT", "0"}, {"API_KEY", "k"},
                           {"DB_PATH", "/nonexistent-dir/sub/events.db"}});
  CHECK(no_db.wait_exit(10000ms) == 1);
  auto out = no_db.drain_stdout();
  CHECK(out.find("\"level\":\"error\"") != std::string::npos);
  CHECK(out.find("cannot open the database") != std::string::npos);
  CHECK(out.find("\"detail\":") != std::string::npos);
}

TEST_CASE("durations past their bound are lowered with a warning or refused",
          "[http][process][config]") {
  // 2562047h is the longest duration in int64 nanoseconds: any now() + it overflows.
  child_process refused({}, {{"PORT", "0"}, {"API_KEY", "k"}, {"REQUEST_TIMEOUT", "2562047h"}});
  CHECK(refused.wait_exit(10000ms) == 2);
  auto err = refused.drain_stderr();
  CHECK(err.find("REQUEST_TIMEOUT") != std::string::npos);
  CHECK(err.find("up to 24h") != std::string::npos);

  temp_dir dir;
  const char* inherited[] = {"READ_TIMEOUT", "WRITE_TIMEOUT", "IDLE_TIMEOUT",
                             "SHUTDOWN_TIMEOUT"};
  std::map<std::string, std::string> env = {{"PORT", "0"}, {"HOST", "127.0.0.1"},
                                            {"API_KEY", "k"}, {"DB_PATH", dir.file("e.db")}};
  for (auto name : inherited)
    env[name] = "2562047h";
  child_process p({}, env);
  std::vector<std::string> warned;
  json started;
  std::string line;
  while (p.next_line(line, 10000ms)) {
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded())
      continue;
    if (j.value("msg", "") == "setting lowered to its maximum") {
      warned.push_back(j.value("setting", ""));
      CHECK(j.value("given", "") == "2562047h");
      CHECK(j.value("used", "") == "24h");
    }
    if (j.value("msg", "") == "ebuse started") {
      started = j;
      break;
    }
  }
  REQUIRE(started.is_object());
  CHECK(warned == std::vector<std::string>(std::begin(inherited), std::end(inherited)));
  for (auto key : {"read_timeout", "write_timeout", "idle_timeout", "shutdown_timeout"})
    CHECK(started.value(key, "") == "24h");
  line_collector logs{p};
  httplib::Client cli{"127.0.0.1", started.value("port", 0)};
  cli.set_default_headers({{"X-API-Key", "k"}});
  auto r = cli.Post("/events", event_body("a", "1"), "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  auto again = cli.Get("/events?from=0");
  REQUIRE(again);
  CHECK(parse_array(again->body).size() == 1);
  p.signal(SIGTERM);
  CHECK(p.wait_exit(15000ms) == 0);
  logs.finish();
}

TEST_CASE("the soft descriptor limit is raised to the hard one at start and logged",
          "[http][process][config]") {
  rlimit own{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &own) == 0);
  if (own.rlim_max != RLIM_INFINITY && own.rlim_max <= 256) {
    WARN("hard descriptor limit too low to test raising it");
    return;
  }
  // The child inherits the lowered soft limit; ours is restored at once.
  rlimit low = own;
  low.rlim_cur = 256;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  temp_dir dir;
  child_process p({}, {{"PORT", "0"}, {"HOST", "127.0.0.1"}, {"API_KEY", "k"},
                       {"DB_PATH", dir.file("e.db")}});
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &own) == 0);
  json logged;
  std::string line;
  while (p.next_line(line, 10000ms)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == "descriptor limit")
      logged = j;
    if (!j.is_discarded() && j.value("msg", "") == "ebuse started")
      break;
  }
  REQUIRE(logged.is_object());
  CHECK(logged.value("soft_before", int64_t{0}) == 256);
  rlimit child{};
  REQUIRE(::prlimit(p.pid(), RLIMIT_NOFILE, nullptr, &child) == 0);
  CHECK(child.rlim_cur == child.rlim_max);
  CHECK(child.rlim_cur == own.rlim_max);
  if (own.rlim_max != RLIM_INFINITY)
    CHECK(logged.value("soft", int64_t{0}) == static_cast<int64_t>(own.rlim_max));
}
