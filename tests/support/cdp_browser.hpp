// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe):
// NUL-terminated JSON messages, commands on the child's fd 3, replies and events on fd 4.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/spawn_args.hpp"

namespace ebuse::test {

/// One headless browser with one page. Every wait has a deadline; a command that gets
/// no reply in time throws.
class cdp_browser {
public:
  using json = nlohmann::json;
  using ms = std::chrono::milliseconds;

  /// Starts `binary` with a fresh profile in `profile_dir` and opens a page of
  /// `width` x `height` CSS pixels.
  cdp_browser(const std::string& binary, const std::string& profile_dir, int width, int height)
    : profile_(profile_dir) {
    spawn(binary);
    // The first command waits for Chromium's start-up, which on a fresh machine builds
    // its caches first (once it took over 20 s on a loaded one).
    auto target = call("Target.createTarget", {{"url", "about:blank"}}, ms(60000), true);
    auto attached = call("Target.attachToTarget",
                         {{"targetId", target["targetId"]}, {"flatten", true}}, ms(5000), true);
    session_ = attached["sessionId"].get<std::string>();
    call("Emulation.setDeviceMetricsOverride",
         {{"width", width}, {"height", height}, {"deviceScaleFactor", 1}, {"mobile", false}});
    call("Page.enable");
    call("Runtime.enable");
    call("Log.enable");
  }

  ~cdp_browser() {
    if (pid_ <= 0)
      return;
    try {
      call("Browser.close", json::object(), ms(5000), true);
    } catch (...) {
    }
    for (int i = 0; i < 500 && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
      ::poll(nullptr, 0, 10); // the browser exits on its own after Browser.close
    if (::waitpid(pid_, nullptr, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(to_browser_);
    ::close(from_browser_);
  }

  cdp_browser(const cdp_browser&) = delete;
  cdp_browser& operator=(const cdp_browser&) = delete;

  /// Sends `method` (to the page unless `browser_level`) and returns its result.
  json call(const std::string& method, json params = json::object(), ms timeout = ms(10000),
            bool browser_level = false) {
    json msg = {{"id", ++next_id_}, {"method", method}, {"params", std::move(params)}};
    if (!browser_level && !session_.empty())
      msg["sessionId"] = session_;
    auto text = msg.dump();
    text.push_back('\0');
    for (std::size_t done = 0; done < text.size();) {
      auto n = ::write(to_browser_, text.data() + done, text.size() - done);
      if (n <= 0)
        throw std::runtime_error("cannot write to the browser");
      done += static_cast<std::size_t>(n);
    }
    auto reply = wait_reply(next_id_, timeout);
    if (reply.contains("error"))
      throw std::runtime_error(method + " failed: " + reply["error"].dump());
    return reply["result"];
  }

  /// Loads `url` and waits for its load event.
  void navigate(const std::string& url, ms timeout = ms(15000)) {
    auto loaded = events_seen("Page.loadEventFired");
    call("Page.navigate", {{"url", url}});
    auto until = std::chrono::steady_clock::now() + timeout;
    while (events_seen("Page.loadEventFired") == loaded)
      if (!pump(until))
        throw std::runtime_error("no load event for " + url);
  }

  /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
  json evaluate(const std::string& expression, ms timeout = ms(10000)) {
    auto r = call("Runtime.evaluate",
                  {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}},
                  timeout);
    if (r.contains("exceptionDetails"))
      throw std::runtime_error("script failed: " + r["exceptionDetails"].dump());
    return r["result"].value("value", json{});
  }

  /// Waits until `condition` (a JS expression) is true in the page, checking at each
  /// animation frame, at most `timeout`. The wait runs in the page, so it sees the
  /// change as soon as the page does.
  bool wait_for(const std::string& condition, ms timeout) {
    auto js = "new Promise((done) => { const end = Date.now() + " + std::to_string(timeout.count())
              + "; const check = () => { let ok = false; try { ok = !!(" + condition
              + "); } catch (e) {} if (ok) done(true); else if (Date.now() > end) done(false);"
                " else requestAnimationFrame(check); }; check(); })";
    return evaluate(js, timeout + ms(5000)).get<bool>();
  }

  /// Types `text` into the focused element, as a keyboard (or an input method) does.
  void type(const std::string& text) {
    call("Input.insertText", {{"text", text}});
  }

  /// Clicks the middle of the element `selector` with the mouse.
  void click(const std::string& selector) {
    auto box = evaluate("(() => { const r = document.querySelector(" + json(selector).dump()
                        + ").getBoundingClientRect();"
                          " return [r.x + r.width / 2, r.y + r.height / 2]; })()");
    for (const char* type : {"mousePressed", "mouseReleased"})
      call("Input.dispatchMouseEvent", {{"type", type}, {"x", box[0]}, {"y", box[1]},
                                        {"button", "left"}, {"clickCount", 1}});
  }

  /// A PNG of the whole page.
  std::string screenshot() {
    auto metrics = call("Page.getLayoutMetrics");
    auto size = metrics["cssContentSize"];
    auto r = call("Page.captureScreenshot",
                  {{"format", "png"},
                   {"captureBeyondViewport", true},
                   {"clip", {{"x", 0}, {"y", 0}, {"width", size["width"]},
                             {"height", size["height"]}, {"scale", 1}}}},
                  ms(20000));
    return base64_decode(r["data"].get<std::string>());
  }

  /// Script errors and console or log entries at level error seen so far (policy
  /// violations among them), except failed network requests.
  std::vector<std::string> errors() const {
    return errors_;
  }

  /// The browser's own output (for a failing test's report).
  std::string log_tail() const {
    std::ifstream in{profile_ + "/chromium.log"};
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
  }

private:
  void spawn(const std::string& binary) {
    int to[2], from[2];
    if (::pipe2(to, O_CLOEXEC) != 0 || ::pipe2(from, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    // Above 4, so that moving them to 3 and 4 in the child never overwrites one.
    int child_in = ::fcntl(to[0], F_DUPFD_CLOEXEC, 10);
    int child_out = ::fcntl(from[1], F_DUPFD_CLOEXEC, 10);
    ::close(to[0]);
    ::close(from[1]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    auto log = profile_ + "/chromium.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawn_file_actions_adddup2(&fa, child_in, 3);
    posix_spawn_file_actions_adddup2(&fa, child_out, 4);
    std::vector<std::string> args = {binary,
                                      "--headless",
                                      "--no-sandbox",
                                      "--disable-gpu",
                                      "--disable-quic",
                                      "--no-first-run",
                                      "--disable-background-networking",
                                      "--disable-component-update",
                                      "--disable-sync",
                                      "--hide-scrollbars",
                                      "--remote-debugging-pipe",
                                      "--user-data-dir=" + profile_};
    std::vector<std::string> env = {"PATH=/usr/bin:/bin", "HOME=" + profile_,
                                     "XDG_CONFIG_HOME=" + profile_, "XDG_CACHE_HOME=" + profile_};
    auto argv = c_strings(args);
    auto envp = c_strings(env);
    int rc = posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(child_in);
    ::close(child_out);
    to_browser_ = to[1];
    from_browser_ = from[0];
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + binary);
    }
  }

  // Reads messages until the reply to `id` arrives; events are kept.
  json wait_reply(int id, ms timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto i = replies_.find(id);
      if (i != replies_.end()) {
        auto r = std::move(i->second);
        replies_.erase(i);
        return r;
      }
      if (!pump(until))
        throw std::runtime_error("no reply from the browser to command " + std::to_string(id));
    }
  }

  // Takes the messages that arrive before `until`; false when none did.
  bool pump(std::chrono::steady_clock::time_point until) {
    for (;;) {
      auto nul = buf_.find('\0');
      if (nul != std::string::npos) {
        handle(json::parse(buf_.substr(0, nul)));
        buf_.erase(0, nul + 1);
        return true;
      }
      auto left = std::chrono::duration_cast<ms>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0)
        return false;
      pollfd p{from_browser_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char tmp[65536];
      auto n = ::read(from_browser_, tmp, sizeof(tmp));
      if (n <= 0)
        return false;
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  void handle(json msg) {
    if (msg.contains("id")) {
      int id = msg["id"].get<int>(); // before the move: the right side is evaluated first
      replies_[id] = std::move(msg);
      return;
    }
    auto method = msg.value("method", std::string{});
    ++seen_[method];
    const auto& p = msg["params"];
    if (method == "Runtime.exceptionThrown")
      errors_.push_back("exception: " + p["exceptionDetails"].dump());
    else if (method == "Log.entryAdded" && p["entry"].value("level", "") == "error"
             && p["entry"].value("source", "") != "network") // a 4xx a test asked for
      errors_.push_back("log: " + p["entry"].value("text", ""));
    else if (method == "Runtime.consoleAPICalled" && p.value("type", "") == "error")
      errors_.push_back("console: " + p["args"].dump());
  }

  int events_seen(const std::string& method) {
    return seen_[method];
  }

  static std::string base64_decode(const std::string& in) {
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
      int v = c >= 'A' && c <= 'Z'   ? c - 'A'
              : c >= 'a' && c <= 'z' ? c - 'a' + 26
              : c >= '0' && c <= '9' ? c - '0' + 52
              : c == '+'             ? 62
              : c == '/'             ? 63
                                     : -1;
      if (v < 0)
        continue;
      acc = (acc << 6) | static_cast<uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out.push_back(static_cast<char>((acc >> bits) & 0xff));
      }
    }
    return out;
  }

  std::string profile_;
  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  int next_id_ = 0;
  std::string session_;
  std::string buf_;
  std::map<int, json> replies_;
  std::map<std::string, int> seen_;
  std::vector<std::string> errors_;
};

} // namespace ebuse::test
