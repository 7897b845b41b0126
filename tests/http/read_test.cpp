// HTTP tests for GET /events and GET /events/stream: parameters, caps, ranges, gzip.
#include <catch2/catch.hpp>

#include <string>

#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"
#include "support/test_server.hpp"

using namespace ebuse::test;

namespace {

// The exact array body for make_batch events [first, last] stored at index == position.
std::string expected_range(int64_t first, int64_t last) {
  std::string out = "[";
  for (int64_t i = first; i <= last; ++i) {
    if (i > first)
      out += ",";
    out += expected_batch_event(i, i);
  }
  return out + "]";
}

// Checks that `body` is a JSON array of exactly the events first..last, in order.
void check_dense(const std::string& body, int64_t first, int64_t last) {
  auto arr = parse_array(body);
  REQUIRE(arr.size() == static_cast<size_t>(last - first + 1));
  int64_t bad = 0;
  for (size_t k = 0; k < arr.size(); ++k) {
    auto want = first + static_cast<int64_t>(k);
    if (arr[k]["position"] != want || arr[k]["data"]["i"] != want)
      ++bad;
  }
  CHECK(bad == 0);
}

} // namespace

TEST_CASE("GET /events validates from and to", "[http][read]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 5);

  for (const char* path : {"/events", "/events?from=", "/events?from=abc", "/events?from=-1",
                           "/events?from=1.5", "/events?from=1x", "/events?to=3",
                           "/events?from=99999999999999999999", "/events?from=1&to=-2",
                           "/events?from=1&to=abc", "/events?from=1&to=2.0",
                           "/events?from=0x1"}) {
    INFO(path);
    check_error(get(*cli, path), 400, "invalid_parameter");
  }

  auto r = get(*cli, "/events?from=1");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.body == expected_range(1, 5) + "\n");
  CHECK(get(*cli, "/events?from=0").body == expected_range(1, 5) + "\n");
  CHECK(get(*cli, "/events?from=3").body == expected_range(3, 5) + "\n");
  CHECK(get(*cli, "/events?from=1&to=-1").body == expected_range(1, 5) + "\n");
  CHECK(get(*cli, "/events?from=2&to=4").body == expected_range(2, 4) + "\n");
  CHECK(get(*cli, "/events?from=2&to=2").body == expected_range(2, 2) + "\n");
  CHECK(get(*cli, "/events?from=0&to=0").body == "[]\n");
  CHECK(get(*cli, "/events?from=4&to=100").body == expected_range(4, 5) + "\n");
  CHECK(get(*cli, "/events?from=6").body == "[]\n");
  CHECK(get(*cli, "/events?from=9223372036854775807").body == "[]\n");

  // to < from is a caught-up consumer, not an error.
  r = get(*cli, "/events?from=5&to=4");
  REQUIRE(r.status == 200);
  CHECK(r.body == "[]\n");
  CHECK(get(*cli, "/events?from=100&to=3").body == "[]\n");
}

TEST_CASE("GET /events on an empty store", "[http][read]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  CHECK(get(*cli, "/events?from=0").body == "[]\n");
  CHECK(get(*cli, "/events?from=1&to=50000").status == 200);
  CHECK(get(*cli, "/events?from=1&to=50000").body == "[]\n");
  auto r = get(*cli, "/events/stream?from=0");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Transfer-Encoding") == "chunked");
  // GET /events ends its array with a newline (Go's json.Encoder); the stream does not.
  CHECK(r.body == "[]");
}

TEST_CASE("GET /events caps at 10000 without to and returns whole ranges with to",
          "[http][read][large]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  constexpr int64_t total = 10500;
  seed(*cli, total);

  // Without `to`: exactly the first 10000 from `from`.
  auto r = get(*cli, "/events?from=1");
  REQUIRE(r.status == 200);
  check_dense(r.body, 1, 10000);
  CHECK(r.body == expected_range(1, 10000) + "\n");
  check_dense(get(*cli, "/events?from=0").body, 1, 10000);
  check_dense(get(*cli, "/events?from=1&to=-1").body, 1, 10000);
  check_dense(get(*cli, "/events?from=400").body, 400, 10399);
  check_dense(get(*cli, "/events?from=600").body, 600, total);

  // With `to`: the whole range, however large (the chunked path above 10000).
  r = get(*cli, "/events?from=1&to=10500");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(r.header("Transfer-Encoding") == "chunked");
  CHECK(r.body == expected_range(1, total) + "\n");
  check_dense(get(*cli, "/events?from=0&to=10000").body, 1, 10000);
  check_dense(get(*cli, "/events?from=1&to=10001").body, 1, 10001);
  check_dense(get(*cli, "/events?from=1&to=10000").body, 1, 10000);
  check_dense(get(*cli, "/events?from=501&to=10500").body, 501, total);
  check_dense(get(*cli, "/events?from=2&to=1000000").body, 2, total);
  check_dense(get(*cli, "/events?from=1&to=9223372036854775807").body, 1, total);
  check_dense(get(*cli, "/events?from=9500&to=20000").body, 9500, total);

  // The stream returns every event from `from`, whatever the page size.
  const std::string all = expected_range(1, total);
  for (const char* bs : {"", "&batch_size=0", "&batch_size=5001", "&batch_size=abc",
                         "&batch_size=7", "&batch_size=1", "&batch_size=5000",
                         "&batch_size=-3", "&batch_size=1000"}) {
    INFO("batch_size param '" << bs << "'");
    auto s = get(*cli, std::string{"/events/stream?from=0"} + bs);
    REQUIRE(s.status == 200);
    CHECK(s.header("Content-Type") == "application/json");
    CHECK(s.body == all);
  }
  CHECK(get(*cli, "/events/stream?from=1").body == all);
  CHECK(get(*cli, "/events/stream?from=10001&batch_size=300").body
        == expected_range(10001, total));
  CHECK(get(*cli, "/events/stream?from=10500").body == expected_range(total, total));
  CHECK(get(*cli, "/events/stream?from=10501").body == "[]");
}

TEST_CASE("GET /events/stream validates from", "[http][read][stream]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  seed(*cli, 3);
  for (const char* path : {"/events/stream", "/events/stream?from=", "/events/stream?from=abc",
                           "/events/stream?from=-1", "/events/stream?batch_size=10"}) {
    INFO(path);
    check_error(get(*cli, path), 400, "invalid_parameter");
  }
  CHECK(get(*cli, "/events/stream?from=2&batch_size=1").body == expected_range(2, 3));
}

TEST_CASE("event responses are gzip-compressed when the client accepts it",
          "[http][read][gzip]") {
  temp_dir dir;
  test_server srv{dir.file("events.db"), quiet_config()};
  auto cli = srv.client();
  cli->set_decompress(false);
  seed(*cli, 2000);

  const httplib::Headers gz = {{"Accept-Encoding", "gzip"}};
  struct row {
    const char* path;
    std::string plain;
  };
  const row rows[] = {
    {"/events?from=1", expected_range(1, 2000) + "\n"},
    {"/events?from=5&to=30", expected_range(5, 30) + "\n"},
    {"/events/stream?from=1", expected_range(1, 2000)},
    {"/events/stream?from=1500&batch_size=100", expected_range(1500, 2000)},
  };
  for (const auto& x : rows) {
    INFO(x.path);
    auto plain = get(*cli, x.path);
    REQUIRE(plain.status == 200);
    CHECK_FALSE(plain.has_header("Content-Encoding"));
    CHECK(plain.body == x.plain);

    auto r = get(*cli, x.path, gz);
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Encoding") == "gzip");
    CHECK(r.header("Content-Type") == "application/json");
    REQUIRE(r.body.size() >= 2);
    CHECK(static_cast<unsigned char>(r.body[0]) == 0x1f);
    CHECK(static_cast<unsigned char>(r.body[1]) == 0x8b);
    std::string inflated;
    REQUIRE(gunzip(r.body, inflated));
    CHECK(inflated == plain.body);
  }

  // The library's own client decompresses transparently to the same content.
  auto dec = srv.client();
  dec->set_decompress(true);
  auto r = get(*dec, "/events?from=1", gz);
  REQUIRE(r.status == 200);
  CHECK(r.body == expected_range(1, 2000) + "\n");
}

TEST_CASE("ENABLE_GZIP off sends identity responses", "[http][read][gzip]") {
  temp_dir dir;
  auto cfg = quiet_config();
  cfg.enable_gzip = false;
  test_server srv{dir.file("events.db"), cfg};
  auto cli = srv.client();
  cli->set_decompress(false);
  seed(*cli, 1500);

  const httplib::Headers gz = {{"Accept-Encoding", "gzip, deflate, br"}};
  auto r = get(*cli, "/events?from=1", gz);
  REQUIRE(r.status == 200);
  CHECK_FALSE(r.has_header("Content-Encoding"));
  CHECK(r.body == expected_range(1, 1500) + "\n");
  r = get(*cli, "/events/stream?from=1", gz);
  REQUIRE(r.status == 200);
  CHECK_FALSE(r.has_header("Content-Encoding"));
  CHECK(r.body == expected_range(1, 1500));
}
