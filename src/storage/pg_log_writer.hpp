// The PostgreSQL store as a tenant writer's storage (log_writer over pg_writer).
#pragma once

#include <memory>
#include <string>

#include "storage/log_writer.hpp"
#include "storage/pg_store.hpp"

namespace ebuse {

/// A tenant on PostgreSQL behind the writer's storage interface: groups go to
/// pg_writer::apply, whose contract is log_writer::apply's. There is no local WAL (the
/// checkpoint calls keep their defaults), no Durable Streams and no import: those
/// answer errc::not_supported (HTTP 501). Expired idempotency keys of the tenant are
/// swept by the writer as on SQLite.
class pg_log_writer final : public log_writer {
public:
  /// Adopts `store`; `url` (redacted) only names it in logs.
  pg_log_writer(std::unique_ptr<pg_writer> store, const std::string& url);

  caf::expected<group_outcome> apply(const write_group& group,
                                     const in_transaction& inside = {}) override;
  int64_t head() const noexcept override {
    return store_->head();
  }
  const std::string& describe() const noexcept override {
    return describe_;
  }
  caf::expected<append_result> import_events(const std::vector<positioned_event>&,
                                             int64_t) override;
  caf::expected<std::unique_ptr<stream_writer>> open_streams(const stream_limits&) override;
  caf::expected<int64_t> sweep_idempotency_keys(int64_t before_ms, int64_t max_rows) override {
    return store_->sweep_idempotency_keys(before_ms, max_rows);
  }

private:
  std::unique_ptr<pg_writer> store_;
  std::string describe_;
};

} // namespace ebuse
