// The route table outside the handlers: allowed methods, metrics paths, the worker pool.
#pragma once

#include <functional>
#include <string>

#include <httplib.h>

#include "http/http_metrics.hpp"

namespace ebuse {

/// The methods served on `path` (for 405 and `Allow`), or null for an unknown path.
const char* allowed_methods(const std::string& path, bool multi_tenant);

/// Whether `path` serves metrics.
bool is_metrics_path(const std::string& path);

/// The library's thread pool, counting connections into `m`: each task the library
/// queues is one connection's lifetime.
class counting_pool : public httplib::TaskQueue {
public:
  counting_pool(int threads, http_metrics& m);

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

private:
  httplib::ThreadPool pool_;
  http_metrics& m_;
};

} // namespace ebuse
