// The storage ceiling: raw SQLite with ebuse's schema and pragmas, no server around it.
#include <chrono>
#include <cstdio>
#include <string>

#include <sqlite3.h>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, err);
    std::exit(1);
  }
}

const char* data = R"({"order_id":"ord-000123","customer":"cust-42","items":[{"sku":"A-1",)"
                   R"("qty":2,"price":19.99},{"sku":"B-7","qty":1,"price":5.5}],"total":45.48})";

void insert(sqlite3_stmt* st) {
  sqlite3_bind_text(st, 1, "order.created", -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 2, data, static_cast<int>(std::char_traits<char>::length(data)),
                    SQLITE_STATIC);
  sqlite3_bind_text(st, 3, "2024-05-06 07:08:09.123456789+00:00", -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE)
    std::exit(1);
  sqlite3_reset(st);
}

// One INSERT of `rows` rows.
void insert_many(sqlite3_stmt* st, int rows) {
  for (int i = 0; i < rows; ++i) {
    sqlite3_bind_text(st, 3 * i + 1, "order.created", -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3 * i + 2, data,
                      static_cast<int>(std::char_traits<char>::length(data)), SQLITE_STATIC);
    sqlite3_bind_text(st, 3 * i + 3, "2024-05-06 07:08:09.123456789+00:00", -1,
                      SQLITE_STATIC);
  }
  if (sqlite3_step(st) != SQLITE_DONE)
    std::exit(1);
  sqlite3_reset(st);
}

} // namespace

int main(int argc, char** argv) {
  std::string path = argc > 1 ? argv[1] : "sqlite_ref.db";
  double budget = argc > 2 ? std::atof(argv[2]) : 2.0;
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
    return 1;
  exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-64000;"
           "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;"
           "CREATE TABLE IF NOT EXISTS events (position INTEGER PRIMARY KEY AUTOINCREMENT,"
           " type TEXT NOT NULL, data BLOB NOT NULL, timestamp DATETIME NOT NULL);");
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO events (type, data, timestamp) VALUES (?1, ?2, ?3)", -1,
                     &ins, nullptr);
  // One row per transaction, as a lone appender gets.
  long single = 0;
  auto t0 = clock_type::now();
  while (seconds_since(t0) < budget) {
    exec(db, "BEGIN IMMEDIATE");
    insert(ins);
    exec(db, "COMMIT");
    ++single;
  }
  double single_rate = single / seconds_since(t0);
  // 100 rows per transaction, as a batch of 100 gets.
  long rows = 0;
  t0 = clock_type::now();
  while (seconds_since(t0) < budget) {
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < 100; ++i)
      insert(ins);
    exec(db, "COMMIT");
    rows += 100;
  }
  double batch_rate = rows / seconds_since(t0);
  // 1024 rows per transaction, 64 rows per INSERT: what the writer makes of concurrent
  // batches (group commit, multi-row statements), with nothing around it.
  std::string many = "INSERT INTO events (type, data, timestamp) VALUES (?,?,?)";
  for (int i = 1; i < 64; ++i)
    many += ",(?,?,?)";
  sqlite3_stmt* ins64 = nullptr;
  sqlite3_prepare_v2(db, many.c_str(), -1, &ins64, nullptr);
  rows = 0;
  t0 = clock_type::now();
  while (seconds_since(t0) < budget) {
    exec(db, "BEGIN IMMEDIATE");
    for (int i = 0; i < 16; ++i)
      insert_many(ins64, 64);
    exec(db, "COMMIT");
    rows += 1024;
  }
  double grouped_rate = rows / seconds_since(t0);
  sqlite3_finalize(ins64);
  // A full scan of every column, as a stream reads.
  sqlite3_stmt* scan = nullptr;
  sqlite3_prepare_v2(db, "SELECT position, type, data, timestamp FROM events ORDER BY position",
                     -1, &scan, nullptr);
  long scanned = 0;
  size_t bytes = 0;
  t0 = clock_type::now();
  while (sqlite3_step(scan) == SQLITE_ROW) {
    bytes += static_cast<size_t>(sqlite3_column_bytes(scan, 2));
    ++scanned;
  }
  double scan_rate = scanned / seconds_since(t0);
  std::printf("RESULT single_tx_per_s=%.0f batch100_rows_per_s=%.0f "
              "grouped_rows_per_s=%.0f scan_rows_per_s=%.0f scanned=%ld bytes=%zu\n",
              single_rate, batch_rate, grouped_rate, scan_rate, scanned, bytes);
  sqlite3_finalize(scan);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return 0;
}
