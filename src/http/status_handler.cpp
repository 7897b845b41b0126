// GET /position, answered from the head the tenant writer publishes.
#include "http/codec.hpp"
#include "http/handlers.hpp"

namespace ebuse {

void handle_position(const httplib::Request&, httplib::Response& res,
                     request_context& ctx) {
  send_json(res, render_position(ctx.t->stats().head.load(std::memory_order_acquire)));
}

} // namespace ebuse
