// Security properties of the real binary: keys never in logs or error bodies, owner-only
// files, tenant names checked before any file is touched.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "reliability/child_server.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse::test;

namespace {

const std::string secret = "SECRET-KEY-6f1d2c";
const std::string wrong = "WRONG-KEY-MARKER-93ab";

int mode_of(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream{path} << text;
}

} // namespace

TEST_CASE("API keys appear neither in logs nor in responses", "[security]") {
  temp_dir dir;
  child_server srv{{"PORT=0", "HOST=127.0.0.1", "API_KEY=" + secret,
                    "DB_PATH=" + dir.file("s.db"), "LOG_LEVEL=debug", "RATE_LIMIT=0"}};
  REQUIRE(srv.port() > 0);
  httplib::Client cli{"127.0.0.1", srv.port()};
  std::vector<std::string> bodies;
  auto keep = [&](const httplib::Result& r) {
    REQUIRE(r);
    bodies.push_back(r->body);
    for (const auto& [name, value] : r->headers)
      bodies.push_back(name + ": " + value);
    return r->status;
  };
  CHECK(keep(cli.Get("/position", {{"X-API-Key", wrong}})) == 401);
  CHECK(keep(cli.Get("/position", {{"Authorization", "Bearer " + wrong}})) == 401);
  CHECK(keep(cli.Get("/position", {{"Authorization", wrong}})) == 401);
  CHECK(keep(cli.Post("/events", {{"X-API-Key", wrong}}, "{}", "application/json")) == 401);
  httplib::Headers good{{"X-API-Key", secret}};
  CHECK(keep(cli.Post("/events", good, "{bad", "application/json")) == 400);
  CHECK(keep(cli.Get("/nope", good)) == 404);
  CHECK(keep(cli.Delete("/events", good)) == 405);
  CHECK(keep(cli.Get("/metrics", good)) == 200);
  CHECK(keep(cli.Get("/events?from=x", {{"Authorization", "Bearer " + secret}})) == 400);
  CHECK(keep(cli.Get("/health")) == 200);
  srv.signal(SIGTERM);
  CHECK(srv.wait() == 0);
  for (const auto& b : bodies) {
    CHECK(b.find(secret) == std::string::npos);
    CHECK(b.find(wrong) == std::string::npos);
  }
  auto logs = srv.output() + srv.errors();
  CHECK(logs.find("\"status\":401") != std::string::npos); // request lines were logged
  CHECK(logs.find(secret) == std::string::npos);
  CHECK(logs.find(wrong) == std::string::npos);
}

TEST_CASE("data_dir is created 0700 and database files 0600 whatever the umask",
          "[security]") {
  temp_dir dir;
  auto data = dir.path() / "data";
  write_file(dir.file("t.yaml"), "data_dir: \"" + data.string()
                                   + "\"\ntenants:\n  - {name: a, api_key: " + secret + "}\n");
  auto old = ::umask(0);
  child_server srv{{"PORT=0", "HOST=127.0.0.1", "LOG_LEVEL=info", "RATE_LIMIT=0"},
                   {"-config", dir.file("t.yaml")}};
  ::umask(old);
  REQUIRE(srv.port() > 0);
  httplib::Client cli{"127.0.0.1", srv.port()};
  auto r = cli.Post("/events", {{"X-API-Key", secret}}, R"({"type":"t","data":1})",
                    "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(mode_of(data) == 0700);
  for (const char* f : {"a.db", "a.db-wal", "a.db-shm"}) {
    INFO(f);
    CHECK(mode_of(data / f) == 0600);
  }
  srv.signal(SIGTERM);
  CHECK(srv.wait() == 0);
  CHECK(srv.output().find(secret) == std::string::npos);
}

TEST_CASE("tenant names are checked before the filesystem is touched", "[security]") {
  temp_dir dir;
  auto data = dir.path() / "data";
  for (std::string name : {"../escape", "..", "a/b", "/abs", "x.db", "a b", ""}) {
    INFO(name);
    write_file(dir.file("t.yaml"), "data_dir: \"" + data.string() + "\"\ntenants:\n  - {name: \""
                                     + name + "\", api_key: " + secret + "}\n");
    child_server srv{{"PORT=0", "HOST=127.0.0.1", "LOG_LEVEL=info"},
                     {"-config", dir.file("t.yaml")}};
    CHECK(srv.port() == 0);
    CHECK(srv.wait() == 2);
    CHECK(srv.errors().find(secret) == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(data));
    CHECK_FALSE(std::filesystem::exists(dir.path() / "escape.db"));
  }
  // A duplicate key is reported without the key.
  write_file(dir.file("t.yaml"), "tenants:\n  - {name: a, api_key: " + secret
                                   + "}\n  - {name: b, api_key: " + secret + "}\n");
  child_server dup{{"PORT=0", "HOST=127.0.0.1"}, {"-config", dir.file("t.yaml")}};
  CHECK(dup.wait() == 2);
  CHECK(dup.errors().find("duplicate") != std::string::npos);
  CHECK(dup.errors().find(secret) == std::string::npos);
}
