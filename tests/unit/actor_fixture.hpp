// Helpers of the actor tests: a tenant on a temporary file, appends, an outside lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>
#include <sqlite3.h>

#include "actors/tenant.hpp"
#include "support/eventually.hpp"
#include "support/commit_gate.hpp"
#include "support/temp_dir.hpp"

namespace ebuse::test {

using namespace std::chrono_literals;

inline new_event ev(std::string type) {
  return new_event{std::move(type), "1", "2024-01-01 00:00:00+00:00"};
}

inline reply_future<append_result> send_append(const writer_actor& writer,
                                               std::vector<new_event> events) {
  append_cmd cmd;
  cmd.events = std::move(events);
  return dispatch(writer, std::move(cmd));
}

/// Messages a writer handles at its start: its first key sweep and the end of its job.
constexpr uint64_t writer_start_messages = 2;

/// Waits until the writer of `t` has handled `n` messages and front-door appends in all
/// (tenant_stats::writer.handled; writer_start_messages included): appends sent to the
/// actor before are then in its write queue, where the job in flight finds them when
/// its commit ends.
inline bool writer_took(const tenant& t, uint64_t n) {
  return eventually([&] { return t.stats().writer.handled.load() >= n; });
}

/// A write lock held by another connection, as another process would hold it.
class outside_lock {
public:
  explicit outside_lock(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
    // The writer may hold the lock for a moment right after its start (the first
    // idempotency key sweep): wait for it rather than fail.
    sqlite3_busy_timeout(db_, 5000);
    rc_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  }
  ~outside_lock() {
    release();
    sqlite3_close(db_);
  }
  bool held() const {
    return rc_ == SQLITE_OK;
  }
  void release() {
    if (rc_ == SQLITE_OK)
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    rc_ = -1;
  }

private:
  sqlite3* db_ = nullptr;
  int rc_ = -1;
};

struct fixture {
  test::temp_dir dir;
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  tenant_options opts;

  fixture() {
    opts.name = "t";
    opts.db_path = dir.file("t.db");
    opts.readers = 2;
  }
};

} // namespace ebuse::test
