// Storage: online snapshots beside a running writer, their temporary files, and imports
// with explicit positions.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include <sqlite3.h>
#include <unistd.h>

#include "core/errc.hpp"
#include "storage/backup.hpp"
#include "storage/event_store.hpp"
#include "support/store_rows.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;

namespace {

new_event ev(int64_t i) {
  return new_event{"t", "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x')
                          + "\"}",
                   "2024-01-01 00:00:00+00:00"};
}

void append_batch(store_writer& w, int64_t first_index, int64_t n) {
  std::vector<new_event> events;
  for (int64_t i = 0; i < n; ++i)
    events.push_back(ev(first_index + i));
  REQUIRE_FALSE(w.begin());
  auto res = test::insert_events(w, events);
  REQUIRE(res);
  REQUIRE_FALSE(w.commit());
  w.set_head(res->last);
}

// The copy in `file`, written out to `path` so that SQLite can open it.
void write_out(const snapshot_file& file, const std::string& path) {
  std::string data(static_cast<size_t>(file.bytes), '\0');
  REQUIRE(file.read_at(0, data.data(), data.size()) == file.bytes);
  FILE* f = std::fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(std::fwrite(data.data(), 1, data.size(), f) == data.size());
  std::fclose(f);
}

std::string query_text(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return out;
}

int temporaries(const test::temp_dir& dir) {
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    n += e.path().filename().string().find(".backup-") != std::string::npos ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("a snapshot taken while a writer commits is a consistent prefix", "[storage][backup]") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  auto w = store_writer::open(path);
  REQUIRE(w);
  for (int i = 0; i < 20; ++i)
    append_batch(**w, i * 500 + 1, 500);
  const int64_t before = (*w)->head();

  // The writer keeps committing on its own thread while the copy runs in small steps.
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::thread writer{[&] {
    int64_t next = before + 1;
    while (!stop && commits < 2000) {
      std::vector<new_event> events{ev(next), ev(next + 1)};
      if ((*w)->begin() || !test::insert_events(**w, events) || (*w)->commit())
        break;
      next += 2;
      ++commits;
    }
  }};
  snapshot_options opts;
  opts.pages_per_step = 8;
  std::atomic<bool> cancel{false};
  auto snap = snapshot_database(path, backup_temp_path(path), opts, cancel);
  int during = commits.load();
  stop = true;
  writer.join();
  REQUIRE(snap);
  INFO("commits while copying: " << during);
  CHECK(snap->steps > 1);
  CHECK(snap->last_position >= before);
  CHECK(snap->fd >= 0);
  // The copy is no longer linked anywhere: its space goes with the descriptor.
  CHECK(temporaries(dir) == 0);

  auto copy = dir.file("copy.db");
  write_out(*snap, copy);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  CHECK(query_text(db, "PRAGMA integrity_check") == "ok");
  // Dense from 1 to the position the snapshot reports, and nothing beyond it.
  CHECK(query_text(db, "SELECT count(*) FROM events") == std::to_string(snap->last_position));
  CHECK(query_text(db, "SELECT max(position) FROM events")
        == std::to_string(snap->last_position));
  CHECK(query_text(db, "SELECT data FROM events WHERE position = 7") == ev(7).data);
  sqlite3_close(db);
}

TEST_CASE("a cancelled or refused snapshot leaves no temporary file", "[storage][backup]") {
  test::temp_dir dir;
  auto path = dir.file("t.db");
  {
    auto w = store_writer::open(path);
    REQUIRE(w);
    append_batch(**w, 1, 2000);
  }
  std::atomic<bool> cancel{true};
  auto cancelled = snapshot_database(path, backup_temp_path(path), {}, cancel);
  REQUIRE_FALSE(cancelled);
  CHECK(code_of(cancelled.error()) == errc::cancelled);
  CHECK(temporaries(dir) == 0);

  cancel = false;
  snapshot_options small;
  small.max_bytes = 4096;
  auto too_big = snapshot_database(path, backup_temp_path(path), small, cancel);
  REQUIRE_FALSE(too_big);
  CHECK(code_of(too_big.error()) == errc::backup_no_space);

  snapshot_options greedy;
  greedy.keep_free_bytes = int64_t{1} << 62; // more than any disk has
  auto no_space = snapshot_database(path, backup_temp_path(path), greedy, cancel);
  REQUIRE_FALSE(no_space);
  CHECK(code_of(no_space.error()) == errc::backup_no_space);
  CHECK(temporaries(dir) == 0);

  auto missing = snapshot_database(dir.file("none.db"), backup_temp_path(dir.file("none.db")),
                                   {}, cancel);
  CHECK_FALSE(missing);
}

TEST_CASE("stale temporaries of one file are removed, nothing else", "[storage][backup]") {
  test::temp_dir dir;
  auto path = dir.file("a.db");
  auto stale = backup_temp_path(path);
  auto other = backup_temp_path(dir.file("b.db"));
  for (const auto& f : {stale, other, path})
    std::fclose(std::fopen(f.c_str(), "w"));
  CHECK(stale.rfind(backup_temp_prefix(path), 0) == 0);
  CHECK(remove_stale_backups(path) == 1);
  CHECK_FALSE(std::filesystem::exists(stale));
  CHECK(std::filesystem::exists(other));
  CHECK(std::filesystem::exists(path));
}

TEST_CASE("imports keep positions, expect the head and reject going back", "[storage][import]") {
  test::temp_dir dir;
  auto w = store_writer::open(dir.file("t.db"));
  REQUIRE(w);
  auto at = [](int64_t pos) { return positioned_event{pos, ev(pos)}; };

  auto first = (*w)->import_events({at(3), at(4), at(9)}, 0);
  REQUIRE(first);
  CHECK(first->first == 3);
  CHECK(first->last == 9);
  CHECK((*w)->head() == 9);

  // Another write came first: the head is not what the import expects.
  auto stale = (*w)->import_events({at(10)}, 4);
  REQUIRE_FALSE(stale);
  CHECK(code_of(stale.error()) == errc::tenant_not_empty);
  // Positions must go on increasing from the head.
  for (auto bad : {std::vector<positioned_event>{at(9)}, {at(12), at(11)}, {at(10), at(10)}}) {
    auto r = (*w)->import_events(bad, 9);
    REQUIRE_FALSE(r);
    CHECK(code_of(r.error()) == errc::invalid_event);
  }
  CHECK((*w)->head() == 9);
  // A thousand more in one call (multi-row statements), then an ordinary append
  // continues after the imported head.
  std::vector<positioned_event> many;
  for (int64_t p = 10; p < 1010; ++p)
    many.push_back(at(p));
  REQUIRE((*w)->import_events(many, 9));
  REQUIRE_FALSE((*w)->begin());
  auto next = test::insert_events(**w, {ev(0)});
  REQUIRE(next);
  CHECK(next->first == 1010);
  REQUIRE_FALSE((*w)->commit());
  (*w)->set_head(next->last);

  // Data stored with line breaks between its tokens (as the original may have kept it)
  // still makes one NDJSON line.
  positioned_event broken{
    2000, new_event{"t", "{\n  \"a\": [1,\r\n 2]\n}", "2024-01-01 00:00:00+00:00"}};
  REQUIRE((*w)->import_events({broken}, 1010));

  auto r = store_reader::open(dir.file("t.db"));
  REQUIRE(r);
  event_page page;
  REQUIRE_FALSE((*r)->load(1, 10, 100, page, true));
  CHECK(page.count == 4);
  CHECK(page.json.rfind("{\"position\":3,", 0) == 0);
  CHECK(std::count(page.json.begin(), page.json.end(), '\n') == 4);
  event_page last;
  REQUIRE_FALSE((*r)->load(2000, 2000, 10, last, true));
  CHECK(last.json == "{\"position\":2000,\"type\":\"t\",\"data\":{\"a\":[1,2]},"
                     "\"timestamp\":\"2024-01-01T00:00:00Z\"}\n");
}
