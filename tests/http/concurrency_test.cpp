// HTTP tests under concurrency and across restarts: group commit, connection bursts,
// durability of acknowledged events.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

TEST_CASE("concurrent appends get unique, dense positions", "[http][server][concurrency]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  constexpr int threads = 16;
  constexpr int per_thread = 40;
  constexpr int batch_size = 1000;
  constexpr int64_t total = threads * per_thread + batch_size;

  struct outcome {
    int status = -1;
    int64_t position = -1;
    std::string type;
    std::string data;
    std::string failure;
  };
  std::vector<std::vector<outcome>> results(threads);
  reply batch_result;
  // Connections are opened one at a time up front and kept alive, so that this test
  // is about the writer; bursts of new connections are tested separately below.
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int t = 0; t <= threads; ++t) {
    clients.push_back(srv.client());
    clients.back()->set_keep_alive(true);
    REQUIRE(get(*clients.back(), "/health").status == 200);
  }
  std::atomic<bool> go{false};
  auto wait_for_go = [&go] {
    while (!go.load())
      std::this_thread::yield();
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto& cli = clients[static_cast<size_t>(t)];
      wait_for_go();
      for (int i = 0; i < per_thread; ++i) {
        outcome o;
        o.type = "thread-" + std::to_string(t);
        o.data = "{\"t\":" + std::to_string(t) + ",\"i\":" + std::to_string(i) + "}";
        auto r = post(*cli, "/events",
                      "{\"type\":\"" + o.type + "\",\"data\":" + o.data
                        + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}");
        o.status = r.status;
        if (r.status != 200)
          o.failure = "status " + std::to_string(r.status) + " error "
                      + httplib::to_string(r.error) + " body " + r.body;
        auto j = json::parse(r.body, nullptr, false);
        if (r.status == 200 && !j.is_discarded() && j.contains("position"))
          o.position = j["position"].get<int64_t>();
        results[t].push_back(std::move(o));
      }
    });
  }
  workers.emplace_back([&] {
    wait_for_go();
    batch_result = post(*clients.back(), "/events/batch", make_batch(1, batch_size));
  });
  go.store(true);
  for (auto& w : workers)
    w.join();

  // Every reply succeeded; positions are unique and dense across singles and the batch.
  REQUIRE(batch_result.status == 200);
  auto b = json::parse(batch_result.body);
  int64_t first = b.at("first_position").get<int64_t>();
  CHECK(b.at("saved") == batch_size);
  CHECK(b.at("last_position") == first + batch_size - 1);

  std::vector<const outcome*> by_position(total + 1, nullptr);
  int failed = 0, out_of_range = 0, duplicates = 0;
  std::string first_failure;
  for (auto& per : results) {
    REQUIRE(per.size() == static_cast<size_t>(per_thread));
    for (auto& o : per) {
      if (o.status != 200) {
        if (!failed)
          first_failure = o.failure;
        ++failed;
        continue;
      }
      if (o.position < 1 || o.position > total) {
        ++out_of_range;
        continue;
      }
      if (o.position >= first && o.position < first + batch_size)
        ++duplicates;
      else if (by_position[o.position])
        ++duplicates;
      by_position[o.position] = &o;
    }
  }
  INFO("first failed append: " << first_failure);
  CHECK(failed == 0);
  CHECK(out_of_range == 0);
  CHECK(duplicates == 0);
  int64_t holes = 0;
  for (int64_t p = 1; p <= total; ++p)
    if (!by_position[p] && !(p >= first && p < first + batch_size))
      ++holes;
  CHECK(holes == 0);

  // Each thread's own appends were committed in the order it sent them.
  int reordered = 0;
  for (auto& per : results)
    for (size_t i = 1; i < per.size(); ++i)
      if (per[i].position <= per[i - 1].position)
        ++reordered;
  CHECK(reordered == 0);

  // Reading back gives each position exactly what was acknowledged for it.
  auto cli = srv.client();
  CHECK(get(*cli, "/position").body == "{\"position\":" + std::to_string(total) + "}\n");
  auto raw = get(*cli, "/events?from=1&to=" + std::to_string(total));
  REQUIRE(raw.status == 200);
  auto all = parse_array(raw.body);
  REQUIRE(all.size() == static_cast<size_t>(total));
  int mismatches = 0;
  for (int64_t p = 1; p <= total; ++p) {
    const auto& ev = all[static_cast<size_t>(p - 1)];
    if (ev["position"] != p) {
      ++mismatches;
    } else if (p >= first && p < first + batch_size) {
      if (ev.dump() != json::parse(expected_batch_event(p - first + 1, p)).dump())
        ++mismatches;
    } else if (!by_position[p] || ev["type"] != by_position[p]->type
               || ev["data"] != json::parse(by_position[p]->data)) {
      ++mismatches;
    }
  }
  CHECK(mismatches == 0);

  // Byte for byte too (key order of data kept).
  std::string expected = "[";
  for (int64_t p = 1; p <= total; ++p) {
    if (p > 1)
      expected += ",";
    if (p >= first && p < first + batch_size) {
      expected += expected_batch_event(p - first + 1, p);
    } else if (by_position[p]) {
      expected += "{\"position\":" + std::to_string(p) + ",\"type\":\"" + by_position[p]->type
                  + "\",\"data\":" + by_position[p]->data
                  + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}";
    }
  }
  expected += "]";
  std::string body = raw.body;
  if (!body.empty() && body.back() == '\n')
    body.pop_back();
  bool identical = body == expected;
  CHECK(identical);
}

TEST_CASE("a restart keeps every event", "[http][server][restart]") {
  temp_dir dir;
  const auto db = dir.file("events.db");
  std::string before_all;
  std::string before_position;
  {
    test_server srv{db, quiet_config()};
    auto cli = srv.client();
    seed(*cli, 1500);
    REQUIRE(post(*cli, "/events",
                 R"({"type":"tz","data":{"x":1.10},)"
                 R"("timestamp":"2024-05-06T07:08:09.123456789+02:00"})")
              .status
            == 200);
    REQUIRE(post(*cli, "/events", R"({"type":"now","data":[1E+2]})").status == 200);
    before_all = get(*cli, "/events?from=0&to=-1").body;
    before_position = get(*cli, "/position").body;
    srv.stop();
  }
  CHECK(before_position == "{\"position\":1502}\n");
  auto parsed = parse_array(before_all);
  REQUIRE(parsed.size() == 1502);

  test_server srv{db, quiet_config()};
  auto cli = srv.client();
  CHECK(get(*cli, "/position").body == before_position);
  CHECK(get(*cli, "/events?from=0").body == before_all);
  auto tail = get(*cli, "/events?from=1501");
  REQUIRE(tail.status == 200);
  auto t = parse_array(tail.body);
  REQUIRE(t.size() == 2);
  CHECK(t[0]["timestamp"] == "2024-05-06T07:08:09.123456789+02:00");
  CHECK(tail.body.find(R"("data":{"x":1.10})") != std::string::npos);
  CHECK(tail.body.find(R"("data":[1E+2])") != std::string::npos);
  CHECK(get(*cli, "/metrics").body.find("\"total_events\":1502") != std::string::npos);

  // Appends continue after the last position.
  auto r = post(*cli, "/events/batch", make_batch(1503, 2));
  REQUIRE(r.status == 200);
  CHECK(r.body == batch_reply(1503, 1504, 2));
}

TEST_CASE("a burst of new connections is served without resets", "[http][server][burst]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  // Clients that open a connection per request arrive faster than one accept loop
  // drains them; none may be reset (an append would be lost or left in doubt).
  constexpr int threads = 48;
  constexpr int per_thread = 8;
  std::vector<std::vector<std::string>> failures(threads);
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto cli = srv.client(); // no keep-alive: a new connection each time
      while (!go.load())
        std::this_thread::yield();
      for (int i = 0; i < per_thread; ++i) {
        auto r = post(*cli, "/events", R"({"type":"burst","data":1})");
        if (r.status != 200)
          failures[t].push_back("status " + std::to_string(r.status) + " error "
                                + httplib::to_string(r.error));
      }
    });
  }
  go.store(true);
  for (auto& w : workers)
    w.join();
  size_t failed = 0;
  std::string first;
  for (auto& f : failures) {
    if (first.empty() && !f.empty())
      first = f.front();
    failed += f.size();
  }
  INFO("first failure: " << first);
  CHECK(failed == 0);
  // Every acknowledged append is there, and nothing else.
  auto cli = srv.client();
  auto expected = threads * per_thread - static_cast<int64_t>(failed);
  CHECK(get(*cli, "/position").body == "{\"position\":" + std::to_string(expected) + "}\n");
}

TEST_CASE("concurrent subscription saves leave memory and disk agreeing",
          "[http][server][concurrency][subscriptions]") {
  temp_dir dir;
  const auto db = dir.file("events.db");
  constexpr int threads = 8;
  constexpr int per_thread = 25;
  std::string served_before;
  std::vector<int> failed(threads, 0);
  {
    test_server srv{db, quiet_config()};
    std::vector<std::unique_ptr<httplib::Client>> clients;
    for (int t = 0; t < threads; ++t) {
      clients.push_back(srv.client());
      clients.back()->set_keep_alive(true);
      REQUIRE(get(*clients.back(), "/health").status == 200);
    }
    std::atomic<bool> go{false};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        while (!go.load())
          std::this_thread::yield();
        for (int i = 0; i < per_thread; ++i) {
          // Every thread moves the shared checkpoint and its own; appends interleave.
          auto pos = std::to_string(t * 1000 + i);
          auto body = "{\"position\":" + pos + "}";
          if (put(*clients[t], "/subscriptions/shared/position", body).status != 204)
            ++failed[t];
          if (post(*clients[t], "/subscriptions/own-" + std::to_string(t) + "/position", body)
                .status
              != 204)
            ++failed[t];
          if (post(*clients[t], "/events", R"({"type":"a","data":1})").status != 200)
            ++failed[t];
        }
      });
    }
    go.store(true);
    for (auto& w : workers)
      w.join();
    auto cli = srv.client();
    served_before = get(*cli, "/subscriptions/shared/position").body;
    for (int t = 0; t < threads; ++t)
      CHECK(get(*cli, "/subscriptions/own-" + std::to_string(t) + "/position").body
            == "{\"position\":" + std::to_string(t * 1000 + per_thread - 1) + "}\n");
    CHECK(get(*cli, "/position").body
          == "{\"position\":" + std::to_string(threads * per_thread) + "}\n");
  }
  for (int t = 0; t < threads; ++t)
    CHECK(failed[t] == 0);
  // The last save of some thread won; the restarted server reads the same from disk.
  auto shared = json::parse(served_before).at("position").get<int64_t>();
  CHECK(shared % 1000 == per_thread - 1);
  test_server srv{db, quiet_config()};
  auto cli = srv.client();
  CHECK(get(*cli, "/subscriptions/shared/position").body == served_before);
  for (int t = 0; t < threads; ++t)
    CHECK(get(*cli, "/subscriptions/own-" + std::to_string(t) + "/position").body
          == "{\"position\":" + std::to_string(t * 1000 + per_thread - 1) + "}\n");
}
