// Commit notifications across connections, and several writers on one tenant: one order.
#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "pg/pg_fixture.hpp"
#include "storage/pg_listener.hpp"

using namespace ebuse;
using namespace ebuse::test;

namespace {

// Collects notifications; waits for one with a deadline.
struct heard {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::pair<std::string, int64_t>> heads;
  int connections = 0;

  pg_listener::notify_fn on_notify() {
    return [this](const std::string& tenant, int64_t head) {
      std::lock_guard<std::mutex> guard{mtx};
      heads.emplace_back(tenant, head);
      cv.notify_all();
    };
  }
  pg_listener::connected_fn on_connected() {
    return [this] {
      std::lock_guard<std::mutex> guard{mtx};
      ++connections;
      cv.notify_all();
    };
  }
  bool wait_for(const std::string& tenant, int64_t head) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, std::chrono::seconds(10), [&] {
      return std::find(heads.begin(), heads.end(), std::make_pair(tenant, head)) != heads.end();
    });
  }
  bool wait_connections(int n) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, std::chrono::seconds(10), [&] { return connections >= n; });
  }
};

} // namespace

TEST_CASE("pg: each commit notifies (tenant, head) on other connections, only commits") {
  auto url = fresh_pg_database();
  heard h;
  pg_listener listener{url, h.on_notify(), h.on_connected()};
  REQUIRE(h.wait_connections(1));
  auto a = pg_writer::open(url, "alpha");
  auto b = pg_writer::open(url, "beta");
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE((*a)->apply(pg_group({pg_append(2)})));
  REQUIRE((*b)->apply(pg_group({pg_append(1)})));
  REQUIRE((*a)->apply(pg_group({pg_append(1, "x", 0)}))); // a conflict: no commit of events
  write_group subs;
  subs.subscriptions = {{"s", 1, false}};
  REQUIRE((*a)->apply(subs)); // no new events: no notification
  auto bad = pg_append(1);
  bad.events[0].type = std::string("\0", 1);
  REQUIRE(!(*a)->apply(pg_group({pg_append(5), bad}))); // rolled back: no notification
  REQUIRE((*a)->apply(pg_group({pg_append(3)})));
  REQUIRE(h.wait_for("alpha", 5));
  listener.stop();
  using entry = std::pair<std::string, int64_t>;
  CHECK(h.heads == std::vector<entry>{{"alpha", 2}, {"beta", 1}, {"alpha", 5}});
}

TEST_CASE("pg: two writers on one tenant: positions dense, nothing lost, order = commit order") {
  auto url = fresh_pg_database();
  heard h;
  pg_listener listener{url, h.on_notify(), h.on_connected()};
  REQUIRE(h.wait_connections(1));
  constexpr int writers = 2, groups = 150;
  struct range {
    int64_t first, last;
    int writer, seq;
  };
  std::vector<std::vector<range>> acked(writers);
  std::vector<std::string> errors(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      auto writer = pg_writer::open(url, "shared");
      if (!writer) {
        errors[w] = message_of(writer.error());
        return;
      }
      std::mt19937 rng(static_cast<unsigned>(w + 1));
      int seq = 0;
      for (int g = 0; g < groups; ++g) {
        write_group group;
        int appends = 1 + static_cast<int>(rng() % 3);
        for (int k = 0; k < appends; ++k) {
          append_request a;
          int n = 1 + static_cast<int>(rng() % 20);
          for (int e = 0; e < n; ++e)
            a.events.push_back(pg_event("w", "{\"w\":" + std::to_string(w) + ",\"s\":"
                                               + std::to_string(seq + e) + "}"));
          group.appends.push_back(std::move(a));
          seq += n;
        }
        auto out = (*writer)->apply(group);
        if (!out) {
          errors[w] = message_of(out.error());
          return;
        }
        int s = seq;
        for (auto it = out->appends.rbegin(); it != out->appends.rend(); ++it) {
          s -= static_cast<int>(it->positions.last - it->positions.first + 1);
          acked[w].push_back({it->positions.first, it->positions.last, w, s});
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (auto& e : errors)
    CHECK(e == "");
  // The acknowledged ranges tile 1..N exactly.
  std::vector<range> all;
  for (auto& v : acked)
    all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end(), [](auto& x, auto& y) { return x.first < y.first; });
  int64_t next = 1;
  for (auto& r : all) {
    REQUIRE(r.first == next);
    next = r.last + 1;
  }
  int64_t head = next - 1;
  pg_reader reader{url};
  CHECK(*reader.max_position("shared") == head);
  // Every event is stored once, where its writer was told.
  for (auto& r : all) {
    auto page = pg_page(reader, "shared", r.first, r.first);
    CHECK(page.find("\"w\":" + std::to_string(r.writer) + ",\"s\":" + std::to_string(r.seq) + "}")
          != std::string::npos);
  }
  // Order = commit order: by position, the commit times never go back (PostgreSQL's
  // own record of each transaction's commit), and the notifications, delivered in
  // commit order, carry ever larger heads.
  auto c = pg::connection::open(url);
  REQUIRE(c);
  pg::params none;
  auto ts = c->query("SELECT (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::int8 "
                     "FROM ebuse.events WHERE tenant = 'shared' ORDER BY position",
                     none);
  REQUIRE(ts);
  REQUIRE(ts->rows() == head);
  int backwards = 0;
  for (int i = 1; i < ts->rows(); ++i)
    backwards += ts->get_int64(i, 0) < ts->get_int64(i - 1, 0);
  CHECK(backwards == 0);
  REQUIRE(h.wait_for("shared", head));
  listener.stop();
  CHECK(h.heads.size() == static_cast<std::size_t>(writers * groups));
  int not_increasing = 0;
  for (std::size_t i = 1; i < h.heads.size(); ++i)
    not_increasing += h.heads[i].second <= h.heads[i - 1].second;
  CHECK(not_increasing == 0);
}

TEST_CASE("pg: a writer with notify off commits without notifications") {
  auto url = fresh_pg_database();
  heard h;
  pg_listener listener{url, h.on_notify(), h.on_connected()};
  REQUIRE(h.wait_connections(1));
  pg_options quiet;
  quiet.notify = false;
  auto q = pg_writer::open(url, "t", quiet);
  auto n = pg_writer::open(url, "t");
  REQUIRE(q);
  REQUIRE(n);
  auto out = (*q)->apply(pg_group({pg_append(2)}));
  REQUIRE(out);
  CHECK(out->head == 2);
  REQUIRE((*n)->apply(pg_group({pg_append(1)})));
  REQUIRE(h.wait_for("t", 3));
  listener.stop();
  using entry = std::pair<std::string, int64_t>;
  CHECK(h.heads == std::vector<entry>{{"t", 3}});
}
