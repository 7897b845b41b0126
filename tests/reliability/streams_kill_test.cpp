// Durable Streams state changes other than appends under SIGKILL: whatever was answered
// (closure, soft delete with a fork, delete, Stream-Seq, a JSON create) is there after a
// restart, because every answer follows its commit.
#include <csignal>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "reliability/child_server.hpp"
#include "reliability/crash_support.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;

namespace {

constexpr const char* key = "streams-kill-key";

int status_of(const httplib::Result& r) {
  return r ? r->status : -1;
}

std::string body_of(const httplib::Result& r) {
  return r ? r->body : std::string{"<no response>"};
}

} // namespace

TEST_CASE("answered stream closures, deletes and Stream-Seq survive SIGKILL",
          "[crash][streams]") {
  temp_dir dir;
  auto db = dir.file("streams-kill.db");
  {
    child_server srv{crash_server_env(key, db)};
    REQUIRE(srv.port() > 0);
    auto cli = crash_client(srv.port(), key);
    REQUIRE(status_of(cli->Put("/v1/stream/closed", "a", "text/plain")) == 201);
    REQUIRE(status_of(cli->Post("/v1/stream/closed", {{"Stream-Closed", "true"}}, "b",
                                "text/plain"))
            == 204);
    REQUIRE(status_of(cli->Put("/v1/stream/src", "x", "text/plain")) == 201);
    REQUIRE(status_of(cli->Put("/v1/stream/fork", {{"Stream-Forked-From", "/v1/stream/src"}}, "",
                               "text/plain"))
            == 201);
    REQUIRE(status_of(cli->Post("/v1/stream/fork", "y", "text/plain")) == 204);
    REQUIRE(status_of(cli->Delete("/v1/stream/src")) == 204);
    REQUIRE(status_of(cli->Put("/v1/stream/gone", "z", "text/plain")) == 201);
    REQUIRE(status_of(cli->Delete("/v1/stream/gone")) == 204);
    REQUIRE(status_of(cli->Put("/v1/stream/seq", "", "text/plain")) == 201);
    REQUIRE(status_of(cli->Post("/v1/stream/seq", {{"Stream-Seq", "5"}}, "s", "text/plain"))
            == 204);
    REQUIRE(status_of(cli->Put("/v1/stream/j", "[1,{\"a\":2}]", "application/json")) == 201);
    srv.signal(SIGKILL);
    CHECK(srv.wait() == 128 + SIGKILL);
  }
  child_server srv{crash_server_env(key, db)};
  REQUIRE(srv.port() > 0);
  auto cli = crash_client(srv.port(), key);
  auto closed = cli->Get("/v1/stream/closed");
  CHECK(body_of(closed) == "ab");
  CHECK((closed && closed->get_header_value("Stream-Closed") == "true"));
  CHECK(status_of(cli->Post("/v1/stream/closed", "c", "text/plain")) == 409);
  CHECK(body_of(cli->Get("/v1/stream/fork")) == "xy");
  CHECK(status_of(cli->Get("/v1/stream/src")) == 410);
  CHECK(status_of(cli->Put("/v1/stream/src", "", "text/plain")) == 409);
  CHECK(status_of(cli->Get("/v1/stream/gone")) == 404);
  CHECK(status_of(cli->Post("/v1/stream/seq", {{"Stream-Seq", "5"}}, "t", "text/plain")) == 409);
  CHECK(status_of(cli->Post("/v1/stream/seq", {{"Stream-Seq", "6"}}, "t", "text/plain")) == 204);
  CHECK(body_of(cli->Get("/v1/stream/seq")) == "st");
  CHECK(body_of(cli->Get("/v1/stream/j")) == "[1,{\"a\":2}]");
}
