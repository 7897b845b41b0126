// GET /admin/tenants/{name}/backup: a consistent SQLite snapshot of one tenant, streamed.
#include <memory>

#include "actors/backup_job.hpp"
#include "core/tenant_name.hpp"
#include "http/connection.hpp"
#include "http/continuation.hpp"
#include "http/handlers.hpp"
#include "http/request_state.hpp"
#include "http/stop_signal.hpp"
#include "obs/logger.hpp"

namespace ebuse {

namespace {

// How often the waiting handler looks whether its client is still there.
constexpr auto client_check = std::chrono::milliseconds(100);

// Bytes read from the copy per write to the client.
constexpr std::size_t send_block = 256 * 1024;

/// A running backup of one tenant: holds the tenant (so that it is neither stopped nor
/// removed meanwhile) and its backup mark until the download is over.
struct backup_hold {
  std::shared_ptr<tenant> t;
  std::shared_ptr<snapshot_file> file;
  std::string buf;

  ~backup_hold() {
    if (t)
      t->end_backup();
  }
};

void log_backup(const tenant& t, const snapshot_file& f) {
  log::write(log::level::info, "backup taken",
             {{"tenant", log::str(t.name())},
              {"bytes", log::num(f.bytes)},
              {"last_position", log::num(f.last_position)},
              {"steps", log::num(f.steps)},
              {"copy_ms", log::num(static_cast<int64_t>(f.seconds * 1e3))},
              {"longest_step_ms", log::num(static_cast<int64_t>(f.longest_step * 1e3))}});
}

// Runs the copy off this thread and waits for it, cancelling it if the client leaves
// (then `client_gone` is set) or the server stops.
caf::expected<std::shared_ptr<snapshot_file>>
take_snapshot(caf::actor_system& sys, const tenant& t, stop_signal& stopped, bool& client_gone) {
  auto job = start_backup_job(sys, t.db_path(), snapshot_options{});
  for (;;) {
    auto res = job.wait(client_check);
    if (res || code_of(res.error()) != errc::timeout)
      return res;
    client_gone = client_gone || client_disconnected();
    if (client_gone || stopped.raised())
      job.cancel();
  }
}

} // namespace

void handle_backup(const httplib::Request& req, httplib::Response& res, request_context& ctx) {
  auto& registry = ctx.server.registry;
  auto name = std::string{ctx.entry->id_of(req.path)};
  if (!valid_tenant_name(name))
    return send_error(res, http_errc::not_found, "no tenant named " + name);
  auto found = registry.find_by_name(name);
  if (found && *found && (*found)->stopping())
    found = make_error(errc::tenant_stopping, "tenant " + name + " is stopping; retry later");
  if (!found && code_of(found.error()) == errc::tenant_stopping) {
    // An expected state while a removed tenant closes, not a failure to log.
    auto e = to_http_error(found.error());
    res.set_header("Retry-After", "1");
    return send_json(res, std::move(e.body), e.status);
  }
  if (!found)
    return send_error(req, res, found.error());
  if (!*found)
    return send_error(res, http_errc::not_found, "no tenant named " + name);
  if ((*found)->on_postgres())
    return send_error(req, res,
                      make_error(errc::not_supported,
                                 "backups are not supported here: tenant " + name
                                   + " is stored in PostgreSQL; back it up with "
                                     "PostgreSQL's own tools (pg_dump, base backups)"));
  if (!(*found)->try_begin_backup())
    return send_error(req, res,
                      make_error(errc::backup_in_progress,
                                 "a backup of tenant " + name + " is already running"));
  auto hold = std::make_shared<backup_hold>();
  hold->t = std::move(*found);
  bool client_gone = false;
  auto file = take_snapshot(registry.system(), *hold->t, ctx.server.stopped, client_gone);
  if (!file && client_gone) {
    // Nobody to answer, and no failure of the server: the request log says 499 ("client
    // closed request", as nginx logs it).
    log::write(log::level::info, "backup cancelled: the client went away",
               {{"tenant", log::str(name)}});
    close_after_response(res);
    return send_json(res,
                     "{\"error\":\"the client closed the request\","
                     "\"code\":\"client_closed\"}\n",
                     499);
  }
  if (!file && code_of(file.error()) == errc::cancelled)
    return send_error(res, http_errc::shutting_down, {});
  if (!file)
    return send_error(req, res, file.error());
  hold->file = std::move(*file);
  log_backup(*hold->t, *hold->file);
  res.set_header("Content-Disposition", "attachment; filename=\"" + name + ".db\"");
  res.set_header("X-Backup-Position", std::to_string(hold->file->last_position));
  res.set_header("Cache-Control", "no-store");
  // Sent block by block from the event loop: a slow download holds no worker. The copy
  // lives as long as the response (`hold`), and is removed when it ends or is cut.
  auto bytes = static_cast<size_t>(hold->file->bytes);
  res.set_content_provider(
    bytes, "application/vnd.sqlite3",
    finite_in_loop(bytes, [hold](size_t offset, size_t length, httplib::DataSink& sink) {
      hold->buf.resize(std::min(length, send_block));
      auto n = hold->file->read_at(static_cast<int64_t>(offset), hold->buf.data(),
                                  hold->buf.size());
      if (n <= 0)
        return false;
      current_request().body_bytes += static_cast<std::size_t>(n);
      return sink.write(hold->buf.data(), static_cast<size_t>(n));
    }));
}

} // namespace ebuse
