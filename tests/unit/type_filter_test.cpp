// Unit tests of the `type=` filter: parsing and matching.
#include <catch2/catch.hpp>

#include "core/type_filter.hpp"

using namespace ebuse;

TEST_CASE("type filters parse exact types and prefix wildcards", "[type_filter]") {
  type_filter f;
  std::string why;
  REQUIRE(parse_type_filter("order.created,user.*,a.b.*", f, why));
  CHECK(f.exact == std::vector<std::string>{"order.created"});
  CHECK(f.prefixes == std::vector<std::string>{"user.", "a.b."});
  CHECK(f.matches("order.created"));
  CHECK(f.matches("user."));
  CHECK(f.matches("user.deleted"));
  CHECK(f.matches("a.b.c"));
  CHECK_FALSE(f.matches("user"));
  CHECK_FALSE(f.matches("users.x"));
  CHECK_FALSE(f.matches("order.created.x"));
  CHECK_FALSE(f.matches("a.bc"));
  for (const char* bad : {"", ",", "a,", ",a", "*", ".*", "a*", "a.*b", "a.**", "**"}) {
    INFO(bad);
    CHECK_FALSE(parse_type_filter(bad, f, why));
    CHECK_FALSE(why.empty());
  }
}
