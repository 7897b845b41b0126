// Request accounting, and the process figures read from /proc.
#include "obs/http_metrics.hpp"

#include <fstream>

#include <sys/stat.h>

namespace ebuse {

http_metrics::http_metrics(std::vector<const char*> labels)
  : labels_(std::move(labels)), routes_(std::make_unique<route_metrics[]>(labels_.size())) {
}

void http_metrics::record(std::size_t label_index, int status, double seconds, uint64_t in,
                          uint64_t out) noexcept {
  auto& m = routes_[label_index];
  int cls = status / 100;
  if (cls >= 1 && cls <= 5)
    m.by_class[static_cast<std::size_t>(cls - 1)].fetch_add(1, std::memory_order_relaxed);
  m.latency.observe(seconds);
  bytes_in.fetch_add(in, std::memory_order_relaxed);
  bytes_out.fetch_add(out, std::memory_order_relaxed);
}

process_figures read_process(const http_metrics& http) {
  process_figures p;
  p.uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - http.started)
               .count();
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      p.rss_bytes = std::stoll(line.substr(6)) * 1024;
    else if (line.rfind("Threads:", 0) == 0)
      p.threads = std::stoll(line.substr(8));
  }
  return p;
}

int64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

} // namespace ebuse
