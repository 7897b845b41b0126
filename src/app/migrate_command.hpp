// `ebuse migrate`: copies one tenant's SQLite file into PostgreSQL (SPEC §13).
#pragma once

namespace ebuse {

/// Runs `ebuse migrate --from FILE.db --to URL --tenant NAME` (argv[1] is "migrate";
/// `--to` defaults to DATABASE_URL). Prints the report as one JSON line on stdout and
/// returns the exit status: 0 copied, 1 refused or failed (the reason on stderr, nothing
/// written), 2 misuse.
int run_migrate_command(int argc, char** argv);

} // namespace ebuse
