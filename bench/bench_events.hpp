// The sample event of the in-process benchmarks.
#pragma once

#include "core/timestamp.hpp"
#include "storage/event_store.hpp"

namespace ebuse {

/// A ~200-byte event, as in the HTTP load tests.
inline new_event sample_event() {
  return new_event{"order.created",
                   R"({"order_id":"ord-000123","customer":"cust-42","items":[{"sku":"A-1",)"
                   R"("qty":2,"price":19.99},{"sku":"B-7","qty":1,"price":5.5}],"total":45.48})",
                   ts::format_stored(ts::now_utc())};
}

} // namespace ebuse
