// log_writer over pg_writer: the PostgreSQL store behind the shared tenant writer actor.
#include "storage/pg_log_writer.hpp"

#include "storage/pg_url.hpp"
#include "storage/stream_store.hpp"

namespace ebuse {

pg_log_writer::pg_log_writer(std::unique_ptr<pg_writer> store, const std::string& url)
  : store_(std::move(store)),
    describe_("tenant " + store_->tenant() + " on " + pg::redact_url(url)) {
}

caf::expected<group_outcome> pg_log_writer::apply(const write_group& group,
                                                  const in_transaction& inside) {
  // The writer never hands stream work to a backend whose open_streams() failed.
  if (inside)
    return make_error(errc::not_supported,
                      "Durable Streams are not supported on PostgreSQL storage");
  return store_->apply(group);
}

caf::expected<append_result> pg_log_writer::import_events(const std::vector<positioned_event>&,
                                                          int64_t) {
  return make_error(errc::not_supported,
                    "import is not supported on PostgreSQL storage; use ebuse migrate");
}

caf::expected<std::unique_ptr<stream_writer>> pg_log_writer::open_streams(const stream_limits&) {
  return make_error(errc::not_supported,
                    "Durable Streams are not supported on PostgreSQL storage");
}

} // namespace ebuse
