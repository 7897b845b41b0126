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

/// A write lock held by another connection, as another process would hold it.
class outside_lock {
public:
  explicit outside_lock(const std::string& path) {
    sqlite3_open(path.c_str(), &db_);
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
