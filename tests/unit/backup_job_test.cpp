// Backup jobs on their pool: a copy answered from its job; a cancel before the job begins.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>

#include "actors/backup_job.hpp"
#include "core/errc.hpp"
#include "storage/event_store.hpp"
#include "storage/worker_pool.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace std::chrono_literals;

namespace {

// A tenant file, with a temporary that a killed backup left beside it.
std::string tenant_file(const test::temp_dir& dir, std::string& stale) {
  auto path = dir.file("t.db");
  REQUIRE(store_writer::open(path));
  stale = backup_temp_path(path);
  std::ofstream{stale} << "left by a killed backup";
  return path;
}

snapshot_options no_space_check() {
  snapshot_options opts;
  opts.keep_free_bytes = 0;
  return opts;
}

} // namespace

TEST_CASE("a backup job copies the file on its pool", "[backup][sqlite]") {
  test::temp_dir dir;
  std::string stale;
  auto path = tenant_file(dir, stale);
  worker_pool pool{1};
  auto job = start_backup_job(pool, path, no_space_check());
  auto res = job.wait(30s);
  REQUIRE(res);
  CHECK((*res)->bytes > 0);
  // The job removed what a killed backup left.
  CHECK_FALSE(std::filesystem::exists(stale));
}

TEST_CASE("a backup cancelled while it waits for a thread touches nothing", "[backup][sqlite]") {
  test::temp_dir dir;
  std::string stale;
  auto path = tenant_file(dir, stale);
  worker_pool pool{1};
  std::promise<void> release;
  auto held = release.get_future().share();
  pool.submit([held] { held.wait(); }); // the pool's one thread is busy
  auto job = start_backup_job(pool, path, no_space_check());
  auto early = job.wait(0ns); // queued behind the held job
  REQUIRE_FALSE(early);
  CHECK(code_of(early.error()) == errc::timeout);
  job.cancel();
  release.set_value();
  auto res = job.wait(30s);
  REQUIRE_FALSE(res);
  CHECK(code_of(res.error()) == errc::cancelled);
  CHECK(std::filesystem::exists(stale));
}
