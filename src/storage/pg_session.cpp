// Reconnect-on-demand for PostgreSQL connections, with a floor between attempts.
#include "storage/pg_session.hpp"

#include "core/errc.hpp"

namespace ebuse::pg {

caf::expected<connection*> session::get() {
  if (conn_.ok())
    return &conn_;
  conn_.close();
  auto now = std::chrono::steady_clock::now();
  if (last_error_ && now - last_failure_ < opts_.retry_interval)
    return last_error_;
  auto fail = [&](caf::error err) {
    conn_.close();
    last_failure_ = now;
    last_error_ = err;
    return err;
  };
  auto c = connection::open(url_, opts_);
  if (!c)
    return fail(std::move(c.error()));
  for (auto& st : statements_)
    if (auto err = c->prepare(st.name, st.sql))
      return fail(std::move(err));
  conn_ = std::move(*c);
  last_error_ = caf::error{};
  return &conn_;
}

void session::abort_transaction() noexcept {
  if (!conn_.ok() || conn_.exec("ROLLBACK"))
    conn_.close();
}

} // namespace ebuse::pg
