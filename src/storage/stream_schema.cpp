// The Durable Streams tables: schema version 3 of a tenant's database.
#include "storage/stream_store.hpp"

namespace ebuse {

namespace {

// ds_streams: one row per stream that exists or is soft-deleted (a deleted stream's
// row goes, so its path can be used again; `id` is never reused, so data, producers and
// ETags of an old stream never mix with a new one at the same path). The tail offset
// is (tail_seq, tail_bytes): appends stored and bytes in the stream's whole view.
// ds_data: one row per append (per POST, or per create or fork prefix), numbered
// from 1 in the stream's offset space; a fork's own appends continue its source's
// numbering past the fork point, and it reads the source's rows up to there. JSON-mode
// rows hold their messages compacted and joined by commas. Clustered by stream.
// ds_producers: the idempotent producers' state, written with their appends.
constexpr const char* schema_v3 = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS ds_streams (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  content_type TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_access_ms INTEGER NOT NULL,
  ttl_seconds INTEGER,
  expires_at_ms INTEGER,
  closed INTEGER NOT NULL DEFAULT 0,
  soft_deleted INTEGER NOT NULL DEFAULT 0,
  tail_seq INTEGER NOT NULL DEFAULT 0,
  tail_bytes INTEGER NOT NULL DEFAULT 0,
  stream_seq BLOB,
  closed_by_id TEXT,
  closed_by_epoch INTEGER,
  closed_by_seq INTEGER,
  fork_source INTEGER NOT NULL DEFAULT 0,
  fork_source_path TEXT NOT NULL DEFAULT '',
  fork_seq INTEGER NOT NULL DEFAULT 0,
  fork_bytes INTEGER NOT NULL DEFAULT 0,
  fork_offset_given INTEGER NOT NULL DEFAULT 0,
  fork_sub_offset INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS ds_streams_forks ON ds_streams (fork_source);
CREATE TABLE IF NOT EXISTS ds_data (
  stream_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  end_bytes INTEGER NOT NULL,
  messages INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (stream_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ds_producers (
  stream_id INTEGER NOT NULL,
  producer_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (stream_id, producer_id)
) WITHOUT ROWID;
PRAGMA user_version = 3;
COMMIT;
)sql";

} // namespace

caf::error apply_streams_schema(sql::connection& db) {
  if (auto err = db.exec(schema_v3)) {
    db.exec("ROLLBACK");
    return err;
  }
  return caf::none;
}

} // namespace ebuse
