// Long runs, not in the default suite (tag [.long]; run `http_tests "[long]"` on a quiet
// machine in a release build): a backup of 1M events under appends, and a 1M-event
// export -> import -> export round trip. Prints what it measured.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "support/http_helpers.hpp"

using namespace ebuse;
using namespace ebuse::test;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int64_t million = 1000000;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

void seed_fast(const test_server& srv, const std::string& key, int64_t total) {
  // Four clients, each its own range of batches; positions follow commit order.
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&, c] {
      auto cli = client_for(srv, key);
      for (int64_t b = c; b * 1000 < total; b += 4)
        if (post(*cli, "/events/batch", make_batch(b * 1000 + 1, 1000)).status != 200)
          ++failures;
    });
  for (auto& t : clients)
    t.join();
  REQUIRE(failures == 0);
}

/// Appends one event at a time and records how long each took, and when it ended.
/// `samples` belongs to the probe's thread until finish().
struct append_probe {
  std::vector<std::pair<double, double>> samples; ///< (end time since start, latency)
  std::atomic<std::size_t> count{0};
  std::atomic<bool> stop{false};
  clock_type::time_point start = clock_type::now();
  std::thread th;

  explicit append_probe(const test_server& srv) {
    th = std::thread{[this, &srv] {
      auto cli = client_for(srv, "key-src");
      for (int i = 0; i < 10 * million && !stop; ++i) {
        auto t0 = clock_type::now();
        if (post(*cli, "/events", event_body("probe", "1")).status != 200)
          break;
        auto t1 = clock_type::now();
        samples.emplace_back(std::chrono::duration<double>(t1 - start).count(),
                             std::chrono::duration<double>(t1 - t0).count());
        ++count;
      }
    }};
  }

  void finish() {
    stop = true;
    th.join();
  }

  // Longest and 99th percentile latency of the appends that ended in [from, to), and
  // how many there were.
  struct window {
    double max = 0;
    double p99 = 0;
    std::size_t count = 0;
  };
  window worst(double from, double to) const {
    std::vector<double> in;
    for (auto [at, lat] : samples)
      if (at >= from && at < to)
        in.push_back(lat);
    if (in.empty())
      return {};
    std::sort(in.begin(), in.end());
    return {in.back(), in[static_cast<std::size_t>(0.99 * static_cast<double>(in.size() - 1))],
            in.size()};
  }
};

} // namespace

TEST_CASE("1M events: a backup under appends, and export -> import -> export",
          "[.long][ops]") {
  temp_dir dir;
  test_server srv{tenants_in(dir, {"src", "dst"}, {"admin-key"}), quiet_config()};
  auto started = clock_type::now();
  seed_fast(srv, "key-src", million);
  std::printf("seeded %lld events in %.1f s\n", static_cast<long long>(million),
              seconds_since(started));

  // Appends before, during and after the backup.
  append_probe probe{srv};
  auto admin = client_for(srv, "admin-key");
  REQUIRE(eventually([&] { return probe.count >= 10; }));
  // A measurement window: 3 000 appends without a backup (a few seconds here).
  REQUIRE(eventually([&] { return probe.count >= 3000; }, std::chrono::seconds(120)));
  double backup_from = seconds_since(probe.start);
  auto backup_start = clock_type::now();
  double snapshot_seconds = 0;
  std::size_t backup_bytes = 0;
  std::string position;
  auto backup = admin->Get(
    "/admin/tenants/src/backup", httplib::Headers{},
    [&](const httplib::Response& head) {
      // The status line comes once the copy is complete.
      snapshot_seconds = seconds_since(backup_start);
      position = head.get_header_value("X-Backup-Position");
      return head.status == 200;
    },
    [&](const char*, size_t len) {
      backup_bytes += len;
      return true;
    });
  double backup_seconds = seconds_since(backup_start);
  double backup_to = seconds_since(probe.start);
  REQUIRE(backup);
  probe.finish();
  auto base = probe.worst(0, backup_from);
  auto during = probe.worst(backup_from, backup_to);
  std::printf("backup: copy %.2f s, with the download %.2f s, %zu bytes, position %s\n",
              snapshot_seconds, backup_seconds, backup_bytes, position.c_str());
  std::printf("appends before: %zu, max %.2f ms, p99 %.2f ms; during the backup: %zu, "
              "max %.2f ms, p99 %.2f ms\n",
              base.count, base.max * 1e3, base.p99 * 1e3, during.count, during.max * 1e3,
              during.p99 * 1e3);
  CHECK(std::stoll(position) >= million);

  auto src = client_for(srv, "key-src");
  auto dst = client_for(srv, "key-dst");
  auto t0 = clock_type::now();
  auto exported = get(*src, "/events/export?to=" + std::to_string(million));
  double export_seconds = seconds_since(t0);
  REQUIRE(exported.status == 200);
  t0 = clock_type::now();
  auto imported = to_reply(dst->Post("/events/import", exported.body, "application/x-ndjson"));
  double import_seconds = seconds_since(t0);
  REQUIRE(imported.status == 200);
  CHECK(imported.body == "{\"imported\":1000000,\"first_position\":1,\"last_position\":1000000}\n");
  t0 = clock_type::now();
  auto again = get(*dst, "/events/export");
  double reexport_seconds = seconds_since(t0);
  CHECK(again.body == exported.body);
  std::printf("export %.2f s (%zu bytes), import %.2f s, export again %.2f s: identical=%s\n",
              export_seconds, exported.body.size(), import_seconds, reexport_seconds,
              again.body == exported.body ? "yes" : "no");
}
