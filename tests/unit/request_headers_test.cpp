// The one-pass scan of the request headers.
#include <catch2/catch.hpp>

#include "http/connection.hpp"
#include "http/request_headers.hpp"

using namespace ebuse;

namespace {

request_headers scanned(std::initializer_list<std::pair<const char*, const char*>> headers,
                     httplib::Request& req) {
  for (auto& [k, v] : headers)
    req.headers.emplace(k, v);
  request_headers h;
  h.scan(req);
  return h;
}

} // namespace

TEST_CASE("request_headers reads names in any case; the first repeated value counts",
          "[http][headers]") {
  httplib::Request req;
  auto h = scanned({{"x-api-KEY", "k1"},
                    {"X-Api-Key", "k2"},
                    {"AUTHORIZATION", "Bearer b"},
                    {"user-agent", "ua"},
                    {"content-type", "application/x-www-form-urlencoded"},
                    {"Content-Length", "12"},
                    {"ACCEPT-ENCODING", "gzip"},
                    {"Host", "h"}},
                   req);
  CHECK(h.x_api_key == "k1");
  CHECK(h.authorization == "Bearer b");
  CHECK(h.user_agent == "ua");
  REQUIRE(h.content_type != nullptr);
  *h.content_type = "application/json"; // rewrites the request's own header
  CHECK(req.get_header_value("Content-Type") == "application/json");
  CHECK(h.content_length_count == 1);
  CHECK(h.content_length == "12");
  CHECK(h.accept_encoding == "gzip");
  CHECK_FALSE(h.forwarded);
  CHECK(h.has_body());
  CHECK(ambiguous_framing(h) == nullptr);
}

TEST_CASE("request_headers finds ambiguous framing", "[http][headers]") {
  {
    httplib::Request req;
    auto h = scanned({{"Content-Length", "1"}, {"content-length", "2"}}, req);
    CHECK(h.content_length_count == 2);
    CHECK(std::string{ambiguous_framing(h)} == "more than one Content-Length header");
  }
  {
    httplib::Request req;
    auto h = scanned({{"Content-Length", "1"}, {"transfer-encoding", "chunked"}}, req);
    CHECK(std::string{ambiguous_framing(h)}
          == "both Content-Length and Transfer-Encoding");
  }
  {
    httplib::Request req;
    auto h = scanned({{"Content-Length", "1x"}}, req);
    CHECK(std::string{ambiguous_framing(h)} == "Content-Length is not a decimal number");
  }
  {
    httplib::Request req;
    auto h = scanned({{"Transfer-Encoding", "chunked"}, {"TRANSFER-ENCODING", "gzip"}}, req);
    CHECK(h.transfer_encoding_count == 2);
    CHECK(std::string{ambiguous_framing(h)} == "more than one Transfer-Encoding header");
  }
  for (const char* coding : {"gzip, chunked", "gzip", "chunked, chunked", "identity"}) {
    INFO(coding);
    httplib::Request req;
    auto h = scanned({{"Transfer-Encoding", coding}}, req);
    CHECK(std::string{ambiguous_framing(h)} == "Transfer-Encoding other than chunked");
  }
  {
    httplib::Request req;
    auto h = scanned({{"Transfer-Encoding", "Chunked"}}, req);
    CHECK(h.transfer_encoding == "Chunked");
    CHECK(ambiguous_framing(h) == nullptr);
  }
  {
    httplib::Request req;
    auto h = scanned({{"X-Forwarded-For", "1.2.3.4"}, {"Content-Length", "0"}}, req);
    CHECK(h.forwarded);
    CHECK_FALSE(h.has_body());
  }
}

TEST_CASE("iequals folds ASCII letters only", "[http][headers]") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("Content-Length", "Content-Lengths"));
  CHECK_FALSE(iequals("@", "`")); // differ only in bit 0x20, not letters
  CHECK_FALSE(iequals("[", "{"));
}

TEST_CASE("header values the library decoded are put back as sent", "[http][headers]") {
  httplib::Request req;
  // As the library read them: every value URL-decoded, repeated names in order.
  req.headers = {{"X-API-Key", "aA"},         {"Idempotency-Key", "x y"},
                 {"Idempotency-Key", "plain"}, {"Accept", "a%b"},
                 {"REMOTE_ADDR", "127.0.0.1"}};
  restore_raw_header_values(req, "x-api-key: a%41\r\n"
                                 "Idempotency-Key:   x%20y \t\r\n"
                                 "IDEMPOTENCY-KEY: plain\r\n"
                                 "Accept: a%b\r\n"
                                 "\r\n");
  CHECK(req.get_header_value("X-API-Key") == "a%41");
  CHECK(req.get_header_value("Idempotency-Key", 0) == "x%20y");
  CHECK(req.get_header_value("Idempotency-Key", 1) == "plain");
  CHECK(req.get_header_value("Accept") == "a%b"); // not an escape: as it was
  CHECK(req.get_header_value("REMOTE_ADDR") == "127.0.0.1");
  // Lines and entries that do not pair up are left alone.
  httplib::Request odd;
  odd.headers = {{"X-API-Key", "aA"}};
  restore_raw_header_values(odd, "X-API-Key: a%41\r\nX-API-Key: b\r\n\r\n");
  CHECK(odd.get_header_value("X-API-Key") == "aA");
}
