// Compile-time tests of the actors' typed interfaces: each accepts its commands only.
#include <catch2/catch.hpp>

#include <caf/check_typed_input.hpp>
#include <caf/response_type.hpp>

#include "actors/messages.hpp"

using namespace ebuse;

namespace {

// What caf::anon_send checks before it compiles a send to `Handle`.
template <class Handle, class... Ts>
constexpr bool accepts = caf::response_type<caf::signatures_of_t<Handle>, Ts...>::valid;

// The reply type of a request, as a requester receives it.
template <class Handle, class... Ts>
using reply_of = typename caf::response_type<caf::signatures_of_t<Handle>, Ts...>::type;

} // namespace

static_assert(accepts<writer_actor, append_cmd>);
static_assert(accepts<writer_actor, save_atom, std::string, int64_t>);
static_assert(std::is_same_v<reply_of<writer_actor, save_atom, std::string, int64_t>,
                             caf::detail::type_list<int64_t>>);
static_assert(!accepts<writer_actor, load_cmd>);
static_assert(!accepts<writer_actor, sub_save_cmd>);

static_assert(accepts<reader_actor, load_cmd>);
static_assert(accepts<reader_actor, health_cmd>);
static_assert(!accepts<reader_actor, append_cmd>); // a reader is given no write
static_assert(!accepts<reader_actor, save_atom, std::string, int64_t>);

static_assert(accepts<subscription_actor, sub_get_cmd>);
static_assert(accepts<subscription_actor, sub_save_cmd>);
static_assert(!accepts<subscription_actor, append_cmd>);

static_assert(accepts<checkpointer_actor, checkpoint_cmd>);
static_assert(!accepts<checkpointer_actor, append_cmd>);

static_assert(accepts<registry_actor, acquire_cmd>);
static_assert(accepts<registry_actor, reload_cmd>);
static_assert(accepts<registry_actor, stop_all_cmd>);
static_assert(!accepts<registry_actor, load_cmd>);

static_assert(accepts<limiter_actor, rate_sweep_cmd>);
static_assert(!accepts<limiter_actor, acquire_cmd>);

TEST_CASE("the actors' interfaces are checked when the tests compile") {
  // The static_asserts above are the test; this case makes the file show in the run.
  CHECK(accepts<reader_actor, load_cmd>);
  CHECK_FALSE(accepts<reader_actor, append_cmd>);
}
