// The SQLite schema of a tenant's file and its `user_version` migration chain.
#pragma once

#include <caf/error.hpp>

#include "storage/db.hpp"

namespace ebuse {

/// Brings the file of `db` to schema_version: runs each missing step of the chain in its
/// own transaction (an interrupted migration resumes at the step that did not finish),
/// repairs files that development builds took past an empty step 2, and refuses a file
/// newer than this build (storage_unavailable).
caf::error migrate_event_store(sql::connection& db);

} // namespace ebuse
