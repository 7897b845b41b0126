// Inserting events straight into a store_writer, for tests of the storage layer.
#pragma once

#include <vector>

#include <caf/expected.hpp>

#include "storage/event_store.hpp"

namespace ebuse::test {

/// Inserts `events` inside the open transaction, as the tenant writer does with a group.
inline caf::expected<append_result> insert_events(store_writer& w,
                                                  const std::vector<new_event>& events) {
  std::vector<const new_event*> rows;
  rows.reserve(events.size());
  for (const auto& e : events)
    rows.push_back(&e);
  return w.insert_rows(rows);
}

} // namespace ebuse::test
