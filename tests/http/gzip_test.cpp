// HTTP tests for response compression: who gets gzip, which bodies, Vary, streams.
#include <catch2/catch.hpp>

#include <string>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

bool is_gzip(const reply& r) {
  return r.header("Content-Encoding") == "gzip" && r.body.size() >= 2
         && static_cast<unsigned char>(r.body[0]) == 0x1f
         && static_cast<unsigned char>(r.body[1]) == 0x8b;
}

} // namespace

TEST_CASE("only event responses of at least GZIP_MIN_BYTES are compressed",
          "[http][gzip]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  cli->set_decompress(false);
  seed(*cli, 300);
  const httplib::Headers gz = {{"Accept-Encoding", "gzip"}};

  // Large: compressed, and decompresses to the identity response.
  auto plain = get(*cli, "/events?from=1");
  auto r = get(*cli, "/events?from=1", gz);
  REQUIRE(r.status == 200);
  CHECK(is_gzip(r));
  CHECK(r.header("Vary") == "Accept-Encoding");
  CHECK(plain.header("Vary") == "Accept-Encoding");
  std::string inflated;
  REQUIRE(gunzip(r.body, inflated));
  CHECK(inflated == plain.body);
  CHECK(r.body.size() < plain.body.size() / 3);

  // Small event responses, other JSON and errors are sent as they are.
  for (auto path : {"/events?from=1&to=3", "/events?from=5&to=4", "/events?from=301",
                    "/events/stream?from=300", "/position", "/metrics",
                    "/subscriptions/a/position", "/events?from=x", "/nope"}) {
    INFO(path);
    auto s = get(*cli, path, gz);
    CHECK_FALSE(s.has_header("Content-Encoding"));
  }
  check_error(get(*cli, "/events?from=-1", gz), 400, "invalid_parameter");

  // Streams: compressed as they go when more than one page or a large first page.
  auto st = get(*cli, "/events/stream?from=1&batch_size=10", gz);
  REQUIRE(st.status == 200);
  CHECK(is_gzip(st));
  inflated.clear();
  REQUIRE(gunzip(st.body, inflated));
  CHECK(inflated == get(*cli, "/events/stream?from=1&batch_size=10").body);
  // Ranges past one page go through the same streamed path.
  auto range = get(*cli, "/events?from=1&to=20000", gz);
  CHECK(is_gzip(range));
}

TEST_CASE("the client's Accept-Encoding decides, brotli is never chosen", "[http][gzip]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  cli->set_decompress(false);
  seed(*cli, 100);
  struct row {
    const char* accept;
    bool gzip;
  };
  for (auto [accept, want] : {row{"gzip, deflate, br", true}, row{"br", false},
                              row{"br;q=1, gzip;q=0.5", true}, row{"gzip;q=0", false},
                              row{"*", true}, row{"identity", false}, row{"deflate", false}}) {
    INFO(accept);
    auto r = get(*cli, "/events?from=1", {{"Accept-Encoding", accept}});
    REQUIRE(r.status == 200);
    CHECK(is_gzip(r) == want);
    CHECK(r.header("Content-Encoding") != "br");
  }
}

TEST_CASE("GZIP_MIN_BYTES sets the threshold; ENABLE_GZIP=false drops Vary", "[http][gzip]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.gzip_min_bytes = 0;
  {
    test_server srv{dir.file("a.db"), cfg};
    auto cli = srv.client();
    cli->set_decompress(false);
    seed(*cli, 2);
    CHECK(is_gzip(get(*cli, "/events?from=1&to=1", {{"Accept-Encoding", "gzip"}})));
    CHECK(is_gzip(get(*cli, "/events/stream?from=1", {{"Accept-Encoding", "gzip"}})));
  }
  cfg.enable_gzip = false;
  test_server srv{dir.file("b.db"), cfg};
  auto cli = srv.client();
  cli->set_decompress(false);
  seed(*cli, 2);
  auto r = get(*cli, "/events?from=1", {{"Accept-Encoding", "gzip"}});
  CHECK_FALSE(r.has_header("Content-Encoding"));
  CHECK_FALSE(r.has_header("Vary"));
}
