// PostgreSQL restarted under the store: 503-class errors while down, then work resumes.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "pg/pg_fixture.hpp"
#include "storage/pg_listener.hpp"
#include "support/eventually.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

using clock_type = std::chrono::steady_clock;

// How long PostgreSQL may take to come back (crash recovery included).
constexpr auto restart_limit = std::chrono::seconds(20);

} // namespace

TEST_CASE("pg: after a restart of PostgreSQL the store reports unavailable, then reconnects") {
  pg_cluster cluster;
  auto url = fresh_pg_database(cluster);
  pg_options opts;
  opts.conn.retry_interval = std::chrono::milliseconds(50);
  auto w = pg_writer::open(url, "t", opts);
  REQUIRE(w);
  pg_reader r{url, opts};
  std::mutex mtx;
  std::condition_variable cv;
  int connections = 0;
  int64_t heard = 0;
  pg_listener listener{url,
                       [&](const std::string&, int64_t head) {
                         std::lock_guard<std::mutex> guard{mtx};
                         heard = head;
                         cv.notify_all();
                       },
                       [&] {
                         std::lock_guard<std::mutex> guard{mtx};
                         ++connections;
                         cv.notify_all();
                       },
                       opts};
  auto wait = [&](auto pred) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, std::chrono::seconds(20), pred);
  };
  REQUIRE(wait([&] { return connections == 1; }));
  REQUIRE((*w)->apply(pg_group({pg_append(2)})));
  REQUIRE(r.ping() == caf::none);

  cluster.stop();
  auto out = (*w)->apply(pg_group({pg_append(1)}));
  REQUIRE(!out);
  CHECK(code_of(out.error()) == errc::storage_unavailable);
  event_page page;
  CHECK(code_of(r.load("t", 1, -1, 10, page)) == errc::storage_unavailable);
  CHECK(code_of(r.ping()) == errc::storage_unavailable);
  // Still down: the next calls fail at once as well.
  CHECK(code_of((*w)->apply(pg_group({pg_append(1)})).error()) == errc::storage_unavailable);

  cluster.start();
  CHECK(eventually([&] { return !r.ping(); }, restart_limit));
  CHECK(eventually([&] { return static_cast<bool>((*w)->apply(pg_group({pg_append(1)}))); },
                   restart_limit));
  CHECK(*r.max_position("t") == 3);
  CHECK(pg_page(r, "t", 3, 3).find("\"position\":3,") != std::string::npos);
  // The listener is back too, and hears the next commit.
  REQUIRE(wait([&] { return connections == 2; }));
  REQUIRE((*w)->apply(pg_group({pg_append(1)})));
  CHECK(wait([&] { return heard == 4; }));
}

TEST_CASE("pg: a restart under load loses no acknowledged event and leaves no gap") {
  pg_cluster cluster;
  auto url = fresh_pg_database(cluster);
  pg_options opts;
  opts.conn.retry_interval = std::chrono::milliseconds(20);
  constexpr int writers = 2;
  std::atomic<bool> done{false};
  std::atomic<int> acked_total{0};
  std::vector<std::set<int64_t>> acked(writers); // acknowledged positions
  std::vector<int> failures(writers, 0);
  std::vector<std::string> unexpected(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      auto writer = pg_writer::open(url, "t", opts);
      if (!writer)
        return;
      // Bounded: stops when told, or after 20 s whatever happens.
      auto until = clock_type::now() + std::chrono::seconds(20);
      while (!done && clock_type::now() < until) {
        auto out = (*writer)->apply(pg_group({pg_append(5), pg_append(1)}));
        if (!out) {
          ++failures[w];
          if (code_of(out.error()) != errc::storage_unavailable)
            unexpected[w] = message_of(out.error());
          // A client's retry pause while PostgreSQL is down (nothing waits on it: the
          // test's assertions hold for any pause), so that the loop does not spin.
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        for (auto& a : out->appends)
          for (auto p = a.positions.first; p <= a.positions.last; ++p)
            acked[w].insert(p);
        acked_total += 2;
      }
    });
  auto wait_acked = [&](int n) {
    return eventually([&] { return acked_total.load() >= n; }, restart_limit);
  };
  CHECK(wait_acked(100));
  cluster.stop();
  cluster.start();
  int after_restart = acked_total.load();
  CHECK(wait_acked(after_restart + 100));
  done = true;
  for (auto& t : threads)
    t.join();
  for (auto& u : unexpected)
    CHECK(u == "");
  // The restart did hit the writers.
  CHECK(failures[0] + failures[1] > 0);
  pg_reader r{url, opts};
  auto head = r.max_position("t");
  REQUIRE(head);
  event_page page;
  REQUIRE(!r.load("t", 1, -1, 1000000, page));
  // Dense: positions 1..head, each once.
  CHECK(page.count == *head);
  CHECK(page.last_position == *head);
  for (auto& set : acked)
    for (auto p : set)
      CHECK(p <= *head);
}
