// A model of the tenant writer's keyed groups in plain SQLite: groups of 30 appends in one
// transaction, each with a random idempotency key looked up and stored, comparing the key
// table's layout (the current one keyed by the key text against rows in arrival order
// found through an index of a 64-bit digest) and no keys at all.
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, err);
    std::exit(1);
  }
}

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    std::exit(1);
  }
  return st;
}

void step_done(sqlite3* db, sqlite3_stmt* st) {
  while (sqlite3_step(st) == SQLITE_ROW) {
  }
  if (sqlite3_errcode(db) != SQLITE_OK && sqlite3_errcode(db) != SQLITE_DONE) {
    std::fprintf(stderr, "step: %s\n", sqlite3_errmsg(db));
    std::exit(1);
  }
  sqlite3_reset(st);
}

// The schema of each layout ("none" has the table too, never written).
const char* key_table(bool ordered) {
  return ordered ? "CREATE TABLE k (id INTEGER PRIMARY KEY, digest INTEGER NOT NULL, key TEXT "
                   "NOT NULL, body_sha256 BLOB NOT NULL, status INTEGER NOT NULL, response "
                   "TEXT NOT NULL, created_ms INTEGER NOT NULL);"
                   "CREATE INDEX k_digest ON k (digest)"
                 : "CREATE TABLE k (key TEXT PRIMARY KEY, body_sha256 BLOB NOT NULL, status "
                   "INTEGER NOT NULL, response TEXT NOT NULL, created_ms INTEGER NOT NULL) "
                   "WITHOUT ROWID;"
                   "CREATE INDEX k_created ON k (created_ms)";
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: key_layout_model none|current|ordered GROUPS DIR [CACHE_SIZE]\n");
    return 2;
  }
  const std::string layout = argv[1];
  const int groups = std::atoi(argv[2]);
  const std::string path = std::string{argv[3]} + "/key_layout_" + layout + ".db";
  const int cache = argc > 4 ? std::atoi(argv[4]) : -65536;
  for (const char* suffix : {"", "-wal", "-shm"})
    ::unlink((path + suffix).c_str());
  const bool keyed = layout != "none";
  const bool ordered = layout == "ordered";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK)
    return 1;
  // The writer's pragmas; the server checkpoints from another actor, so none here.
  auto pragmas = "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA temp_store=MEMORY;"
                 "PRAGMA mmap_size=0;PRAGMA wal_autocheckpoint=0;PRAGMA cache_size="
                 + std::to_string(cache);
  exec(db, pragmas.c_str());
  exec(db, "CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT "
           "NULL, data BLOB NOT NULL, timestamp DATETIME NOT NULL)");
  exec(db, key_table(ordered));
  auto* event = prepare(db, "INSERT INTO events (type, data, timestamp) VALUES ('bench.tick', "
                            "'{\"n\":1}', '2026-11-29T03:00:00.000Z')");
  auto* lookup = prepare(db, ordered ? "SELECT body_sha256, status, response FROM k WHERE "
                                       "digest = ?1 AND key = ?2"
                                     : "SELECT body_sha256, status, response FROM k WHERE "
                                       "key = ?2");
  auto* put = prepare(db, ordered ? "INSERT INTO k (digest, key, body_sha256, status, "
                                    "response, created_ms) VALUES (?1, ?2, ?3, 200, ?4, ?5)"
                                  : "INSERT OR REPLACE INTO k (key, body_sha256, status, "
                                    "response, created_ms) VALUES (?2, ?3, 200, ?4, ?5)");
  auto* begin = prepare(db, "BEGIN");
  auto* commit = prepare(db, "COMMIT");
  std::mt19937_64 rng{42};
  unsigned char sha[32];
  for (auto& b : sha)
    b = static_cast<unsigned char>(rng());
  std::vector<std::pair<int64_t, std::string>> keys(30);
  double total_us = 0;
  int64_t position = 0;
  for (int g = 0; g < groups; ++g) {
    for (auto& [digest, key] : keys) {
      char text[40];
      std::snprintf(text, sizeof text, "%016llx%016llx",
                    static_cast<unsigned long long>(rng()),
                    static_cast<unsigned long long>(rng()));
      key = text;
      digest = static_cast<int64_t>(rng());
    }
    auto t0 = std::chrono::steady_clock::now();
    step_done(db, begin);
    for (const auto& [digest, key] : keys) {
      if (keyed) {
        sqlite3_bind_int64(lookup, 1, digest);
        sqlite3_bind_text(lookup, 2, key.c_str(), -1, SQLITE_STATIC);
        step_done(db, lookup);
      }
      step_done(db, event);
      ++position;
      if (keyed) {
        auto response = "=" + std::to_string(position) + " " + std::to_string(position);
        sqlite3_bind_int64(put, 1, digest);
        sqlite3_bind_text(put, 2, key.c_str(), -1, SQLITE_STATIC);
        sqlite3_bind_blob(put, 3, sha, sizeof sha, SQLITE_STATIC);
        sqlite3_bind_text(put, 4, response.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(put, 5, int64_t{1700000000000} + g);
        step_done(db, put);
      }
    }
    step_done(db, commit);
    total_us += std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                  .count();
  }
  std::printf("layout=%s groups=%d keys=%lld cache_size=%d us_per_group=%.0f\n", layout.c_str(),
              groups, static_cast<long long>(keyed ? position : 0), cache, total_us / groups);
  for (auto* st : {event, lookup, put, begin, commit})
    sqlite3_finalize(st);
  sqlite3_close(db);
  for (const char* suffix : {"", "-wal", "-shm"})
    ::unlink((path + suffix).c_str());
}
