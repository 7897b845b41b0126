// Unit tests for response compression: which clients get gzip, and valid gzip output.
#include <catch2/catch.hpp>

#include <string>

#include <httplib.h>

#include "http/gzip.hpp"

using namespace ebuse;

TEST_CASE("Accept-Encoding admits gzip only with a positive q-value") {
  for (auto yes : {"gzip", "GZIP", "deflate, gzip", "gzip;q=0.5", "x-gzip", "*", "br, *;q=0.1",
                   "gzip , br", "br;q=1, gzip;q=0.001", "gzip; q=1"})
    CHECK(accepts_gzip(yes));
  for (auto no : {"", "identity", "br", "deflate, br", "gzip;q=0", "gzip;q=0.0, *",
                  "*;q=0", "gzip;q=abc", "gzipx", "xgzip"}) {
    INFO(no);
    CHECK_FALSE(accepts_gzip(no));
  }
}

TEST_CASE("gzip output is a valid stream, whole or streamed") {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "{\"position\":" + std::to_string(i) + ",\"type\":\"t\",\"data\":{}},";
  auto gz = gzip_compress(text);
  CHECK(gz.size() < text.size() / 4);
  httplib::detail::gzip_decompressor d;
  std::string back;
  REQUIRE(d.decompress(gz.data(), gz.size(), [&](const char* p, size_t n) {
    back.append(p, n);
    return true;
  }));
  CHECK(back == text);

  gzip_encoder enc;
  std::string out;
  REQUIRE(enc.compress(text.substr(0, 1000), false, false, out));
  REQUIRE(enc.compress({}, true, false, out)); // sync flush: the first part is decodable
  httplib::detail::gzip_decompressor partial;
  std::string first;
  REQUIRE(partial.decompress(out.data(), out.size(), [&](const char* p, size_t n) {
    first.append(p, n);
    return true;
  }));
  CHECK(first == text.substr(0, 1000));
  REQUIRE(enc.compress(text.substr(1000), false, true, out));
  httplib::detail::gzip_decompressor whole;
  back.clear();
  REQUIRE(whole.decompress(out.data(), out.size(), [&](const char* p, size_t n) {
    back.append(p, n);
    return true;
  }));
  CHECK(back == text);
}
