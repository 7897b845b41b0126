// Fuzzes the environment: NAME=VALUE lines fed to load_env_config, and the whole input
// to parse_go_duration. A rejected value's message names its variable.
#include <map>

#include "app/config.hpp"
#include "fuzz_check.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = fuzz::as_text(data, size);
  std::chrono::nanoseconds d;
  if (parse_go_duration(in, d))
    FUZZ_CHECK(d.count() >= 0);
  std::map<std::string, std::string> env;
  size_t start = 0;
  while (start <= in.size()) {
    auto nl = in.find('\n', start);
    auto line = in.substr(start, nl == std::string_view::npos ? nl : nl - start);
    auto eq = line.find('=');
    if (eq != std::string_view::npos)
      env[std::string{line.substr(0, eq)}] = std::string{line.substr(eq + 1)};
    if (nl == std::string_view::npos)
      break;
    start = nl + 1;
  }
  server_config cfg;
  std::string err;
  auto lookup = [&env](const char* name) -> const char* {
    auto i = env.find(name);
    return i == env.end() ? nullptr : i->second.c_str();
  };
  if (!load_env_config(lookup, cfg, err)) {
    bool named = false;
    for (const auto& [name, value] : env)
      named = named || (!name.empty() && err.find(name) != std::string::npos);
    FUZZ_CHECK(named);
  } else {
    FUZZ_CHECK(cfg.port >= 0 && cfg.port <= 65535 && cfg.http_threads >= 2);
    FUZZ_CHECK(cfg.read_timeout.count() > 0 && cfg.max_body_bytes >= 1024);
  }
  return 0;
}
