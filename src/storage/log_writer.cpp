// The defaults of the optional log_writer capabilities that need complete types.
#include "storage/log_writer.hpp"

#include "storage/stream_store.hpp"

namespace ebuse {

caf::expected<std::unique_ptr<stream_writer>> log_writer::open_streams(const stream_limits&) {
  return make_error(errc::storage_unavailable, "streams are not supported by this storage");
}

} // namespace ebuse
