// The one-pass scan of the request headers.
#include <catch2/catch.hpp>

#include "http/connection.hpp"
#include "http/request_head.hpp"

using namespace ebuse;

namespace {

request_head scanned(std::initializer_list<std::pair<const char*, const char*>> headers,
                     httplib::Request& req) {
  for (auto& [k, v] : headers)
    req.headers.emplace(k, v);
  request_head head;
  head.scan(req);
  return head;
}

} // namespace

TEST_CASE("request_head reads names in any case; the first repeated value counts",
          "[http][head]") {
  httplib::Request req;
  auto head = scanned({{"x-api-KEY", "k1"},
                       {"X-Api-Key", "k2"},
                       {"AUTHORIZATION", "Bearer b"},
                       {"user-agent", "ua"},
                       {"content-type", "application/x-www-form-urlencoded"},
                       {"Content-Length", "12"},
                       {"ACCEPT-ENCODING", "gzip"},
                       {"Host", "h"}},
                      req);
  CHECK(head.x_api_key == "k1");
  CHECK(head.authorization == "Bearer b");
  CHECK(head.user_agent == "ua");
  REQUIRE(head.content_type != nullptr);
  *head.content_type = "application/json"; // rewrites the request's own header
  CHECK(req.get_header_value("Content-Type") == "application/json");
  CHECK(head.content_length_count == 1);
  CHECK(head.content_length == "12");
  CHECK(head.accept_encoding == "gzip");
  CHECK_FALSE(head.forwarded);
  CHECK(head.has_body());
  CHECK(ambiguous_framing(head) == nullptr);
}

TEST_CASE("request_head finds ambiguous framing", "[http][head]") {
  {
    httplib::Request req;
    auto head = scanned({{"Content-Length", "1"}, {"content-length", "2"}}, req);
    CHECK(head.content_length_count == 2);
    CHECK(std::string{ambiguous_framing(head)} == "more than one Content-Length header");
  }
  {
    httplib::Request req;
    auto head = scanned({{"Content-Length", "1"}, {"transfer-encoding", "chunked"}}, req);
    CHECK(std::string{ambiguous_framing(head)}
          == "both Content-Length and Transfer-Encoding");
  }
  {
    httplib::Request req;
    auto head = scanned({{"Content-Length", "1x"}}, req);
    CHECK(std::string{ambiguous_framing(head)} == "Content-Length is not a decimal number");
  }
  {
    httplib::Request req;
    auto head = scanned({{"Transfer-Encoding", "chunked"}, {"TRANSFER-ENCODING", "gzip"}}, req);
    CHECK(head.transfer_encoding_count == 2);
    CHECK(std::string{ambiguous_framing(head)} == "more than one Transfer-Encoding header");
  }
  {
    httplib::Request req;
    auto head = scanned({{"X-Forwarded-For", "1.2.3.4"}, {"Content-Length", "0"}}, req);
    CHECK(head.forwarded);
    CHECK_FALSE(head.has_body());
  }
}

TEST_CASE("iequals folds ASCII letters only", "[http][head]") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("Content-Length", "Content-Lengths"));
  CHECK_FALSE(iequals("@", "`")); // differ only in bit 0x20, not letters
  CHECK_FALSE(iequals("[", "{"));
}
