// The tenant writer's upkeep between groups: WAL checkpoints and the idempotency key sweep.
#include <algorithm>
#include <chrono>

#include <caf/send.hpp>

#include "actors/checkpointer.hpp"
#include "actors/tenant_writer_state.hpp"
#include "core/timestamp.hpp"
#include "obs/logger.hpp"

namespace ebuse::writer {

// How far (in thresholds) the WAL may grow while a background pass is running before
// the writer checkpoints itself: a reader holding old frames or a slow disk must not
// let it grow without bound.
constexpr int own_checkpoint_factor = 4;

// The WAL size at which the writer checkpoints itself when the WAL is back to small.
// In 64 bits: WAL_AUTOCHECKPOINT may be up to 10^9 pages.
int64_t own_checkpoint_base(const writer_core& st) {
  int64_t threshold = st.store->wal_threshold();
  return st.opts.checkpointer ? own_checkpoint_factor * threshold : threshold;
}

void own_checkpoint(writer_core& st) {
  if (st.store->checkpoint_passive())
    st.stats->checkpoint_failures.fetch_add(1, std::memory_order_relaxed);
  else
    st.stats->writer_checkpoints.fetch_add(1, std::memory_order_relaxed);
}

// After a commit was answered. A background pass copies the bulk of the WAL while
// commits go on; frames appended during it remain, so the WAL would never restart
// under steady load. The writer copies that small rest itself, after which the next
// transaction starts the WAL from the beginning.
void after_commit(writer_core& st) {
  const int frames = st.store->wal_frames();
  const int threshold = st.store->wal_threshold();
  st.stats->wal_frames.store(frames, std::memory_order_relaxed);
  if (threshold <= 0)
    return;
  if (frames < threshold) {
    st.next_own_checkpoint = own_checkpoint_base(st);
    return;
  }
  if (st.checkpoint_requested) {
    if (!st.stats->checkpoint_pending.load(std::memory_order_acquire)) {
      st.checkpoint_requested = false;
      own_checkpoint(st);
    } else if (frames >= st.next_own_checkpoint) {
      own_checkpoint(st);
      st.next_own_checkpoint = int64_t{frames} + threshold;
    }
    return;
  }
  if (st.opts.checkpointer) {
    st.checkpoint_requested = true;
    caf::anon_send(st.opts.checkpointer,
                   checkpoint_cmd{st.store->describe(),
                                  std::make_shared<checkpoint_ticket>(st.stats)});
  } else if (frames >= st.next_own_checkpoint) {
    own_checkpoint(st);
    st.next_own_checkpoint = int64_t{frames} + threshold;
  }
}

// Rows one sweep deletes at most: a large backlog is cleared in steps between groups.
constexpr int64_t key_sweep_rows = 10000;

// Deletes expired idempotency keys; again soon while a backlog remains, else after a
// quarter of the TTL (at least a second, at most ten minutes).
void sweep_keys(writer_core& st) {
  const auto ttl = st.opts.idempotency_ttl;
  auto swept = st.store->sweep_idempotency_keys(ts::unix_now_ms() - ttl.count(), key_sweep_rows);
  if (swept)
    st.stats->keys_swept.fetch_add(static_cast<uint64_t>(*swept), std::memory_order_relaxed);
  else
    log::write(log::level::warn, "idempotency key sweep failed",
               {{"db_path", log::str(st.store->describe())},
                {"detail", log::str(message_of(swept.error()))}});
  auto next = std::clamp<std::chrono::milliseconds>(ttl / 4, std::chrono::seconds(1),
                                                    std::chrono::minutes(10));
  if (swept && *swept == key_sweep_rows)
    next = std::chrono::milliseconds(10);
  st.next_key_sweep = next;
}

} // namespace ebuse::writer
