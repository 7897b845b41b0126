// Unit tests for the route table: matching, 404/405 with Allow, labels, and the docs.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "http/route_table.hpp"

using namespace ebuse;

namespace {

std::string read_doc(const char* name) {
  std::ifstream in{std::string{EBUSE_SOURCE_DIR} + "/docs/" + name};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string label_of(const route_match& m) {
  return route_labels()[m.label_index()];
}

} // namespace

TEST_CASE("every served method of every path matches its route") {
  const std::pair<const char*, const char*> cases[] = {
    {"POST /events", "events_post"},          {"GET /events", "events_get"},
    {"HEAD /events", "events_get"},           {"POST /events/batch", "events_batch"},
    {"GET /events/stream", "events_stream"},  {"GET /position", "position"},
    {"GET /subscriptions/a/position", "subscription_get"},
    {"POST /subscriptions/a/position", "subscription_save"},
    {"PUT /subscriptions/a/position", "subscription_save"},
    {"DELETE /subscriptions/a/position", "subscription_delete"},
    {"GET /health", "health"},                {"GET /metrics", "metrics"},
    {"GET /metrics/prometheus", "metrics"},   {"GET /tenants", "tenants"},
    {"GET /events/export", "events_export"},  {"POST /events/import", "events_import"},
    {"GET /metrics/stream", "metrics_stream"}, {"GET /dashboard", "dashboard"},
    {"GET /admin/tenants/a/backup", "admin_backup"},
    {"PUT /v1/stream/a", "stream_create"},    {"POST /v1/stream/a/b", "stream_append"},
    {"GET /v1/stream/a", "stream_read"},      {"HEAD /v1/stream/a", "stream_read"},
    {"DELETE /v1/stream/a", "stream_delete"}, {"OPTIONS /v1/stream/a", "other"},
    {"GET /v1/stream/", "stream_read"},
  };
  for (auto [line, label] : cases) {
    std::string l = line;
    auto sp = l.find(' ');
    auto m = match(l.substr(0, sp), l.substr(sp + 1), true);
    INFO(line);
    REQUIRE(m.status == 200);
    REQUIRE(m.entry != nullptr);
    CHECK(m.entry->handler != nullptr);
    CHECK(label_of(m) == label);
  }
}

TEST_CASE("a known path with another method is a 405 listing the methods") {
  auto m = match("DELETE", "/events", true);
  CHECK(m.status == 405);
  CHECK(m.allow == "GET, POST");
  CHECK(label_of(m) == "other");
  CHECK(unmatched_message(m, "DELETE", "/events")
        == "method DELETE not allowed; allowed: GET, POST");
  CHECK(match("POST", "/position", true).allow == "GET");
  CHECK(match("GET", "/events/batch", true).allow == "POST");
  CHECK(match("PATCH", "/subscriptions/x/position", true).allow == "GET, POST, PUT, DELETE");
  CHECK(match("PATCH", "/subscriptions/x/position", true).status == 405);
  // A 405 keeps the path's rules: /health needs no key and is not limited.
  auto health = match("POST", "/health", true);
  CHECK(health.status == 405);
  CHECK(health.auth() == auth_kind::none);
  CHECK_FALSE(health.rate_limited());
}

TEST_CASE("the stream API is one prefix; its bare path is a 404 under its rules") {
  auto m = match("GET", "/v1/stream/a/b/c", true);
  REQUIRE(m.status == 200);
  CHECK(m.entry->id_of("/v1/stream/a/b/c") == "a/b/c");
  CHECK(m.entry->id_of("/v1/stream/") == "");
  CHECK(m.auth() == auth_kind::stream);
  auto patch = match("PATCH", "/v1/stream/a", true);
  CHECK(patch.status == 405);
  CHECK(patch.allow == "GET, HEAD, POST, PUT, DELETE, OPTIONS");
  CHECK(patch.auth() == auth_kind::stream);
  for (const char* method : {"GET", "PUT", "OPTIONS"}) {
    auto bare = match(method, "/v1/stream", true);
    INFO(method);
    CHECK(bare.status == 404);
    REQUIRE(bare.entry != nullptr);
    CHECK(bare.auth() == auth_kind::stream);
    CHECK(label_of(bare) == "other");
    CHECK(unmatched_message(bare, method, "/v1/stream") == "no such path: /v1/stream");
  }
  CHECK(match("GET", "/v1/streams", true).entry == nullptr);
  CHECK(match("GET", "/v1/streamx/a", true).entry == nullptr);
}

TEST_CASE("operator routes: admin keys, an open page, a backup per tenant, a streamed import") {
  CHECK(match("GET", "/metrics/stream", true).auth() == auth_kind::admin);
  auto backup = match("GET", "/admin/tenants/t-1/backup", true);
  REQUIRE(backup.status == 200);
  CHECK(backup.auth() == auth_kind::admin);
  CHECK(backup.entry->id_of("/admin/tenants/t-1/backup") == "t-1");
  CHECK(match("POST", "/admin/tenants/t-1/backup", true).allow == "GET");
  for (const char* path :
       {"/admin/tenants/t-1", "/admin/x", "/admin/", "/admin/tenants/t/restore"}) {
    INFO(path);
    auto near = match("GET", path, true);
    CHECK(near.status == 404);
    CHECK(near.auth() == auth_kind::admin); // an unknown admin path still needs an admin key
    CHECK(label_of(near) == "other");
  }
  CHECK(match("GET", "/admin", true).auth() == auth_kind::tenant);
  CHECK(match("GET", "/administrator", true).auth() == auth_kind::tenant);
  auto dashboard = match("GET", "/dashboard", false);
  CHECK(dashboard.auth() == auth_kind::none);
  CHECK(dashboard.rate_limited());
  auto import = match("POST", "/events/import", false);
  REQUIRE(import.status == 200);
  CHECK(import.entry->streams_body());
  CHECK_FALSE(match("POST", "/events", false).entry->streams_body());
  CHECK(match("PUT", "/events/import", false).allow == "POST");
}

TEST_CASE("unknown paths are 404s that need a tenant key and are limited") {
  for (const char* path : {"/nope", "/", "/events/", "/Events", "/position/x", "/health/x",
                           "/metrics/", "/subscriptions"}) {
    INFO(path);
    auto m = match("GET", path, true);
    CHECK(m.status == 404);
    CHECK(m.entry == nullptr);
    CHECK(m.auth() == auth_kind::tenant);
    CHECK(m.rate_limited());
    CHECK(label_of(m) == "other");
    CHECK(unmatched_message(m, "GET", path) == std::string{"no such path: "} + path);
  }
}

TEST_CASE("a subscription path needs its suffix; the id is what lies between") {
  for (const char* path : {"/subscriptions/a", "/subscriptions/a/", "/subscriptions/a/positions",
                           "/subscriptions/a/position/x", "/subscriptions/",
                           "/subscriptions/position"}) {
    INFO(path);
    auto m = match("GET", path, true);
    CHECK(m.status == 404);
    REQUIRE(m.entry != nullptr); // the route it nearly is: its rules apply
    CHECK(m.auth() == auth_kind::tenant);
    CHECK(unmatched_message(m, "GET", path)
          == "no such path; expected /subscriptions/{id}/position");
    auto del = match("DELETE", path, true); // served at the full path too
    CHECK(del.status == 404);
    CHECK(unmatched_message(del, "DELETE", path)
          == "no such path; expected /subscriptions/{id}/position");
    auto patch = match("PATCH", path, true);
    CHECK(patch.status == 404);
    CHECK(unmatched_message(patch, "PATCH", path) == std::string{"no such path: "} + path);
  }
  auto m = match("GET", "/subscriptions/a/b/position", true);
  REQUIRE(m.status == 200);
  CHECK(m.entry->id_of("/subscriptions/a/b/position") == "a/b"); // rejected by the handler
  m = match("PUT", "/subscriptions//position", true);
  REQUIRE(m.status == 200);
  CHECK(m.entry->id_of("/subscriptions//position").empty());
  CHECK(m.entry->id_of("/events").empty());
}

TEST_CASE("/tenants exists only in multi-tenant mode") {
  auto single = match("GET", "/tenants", false);
  CHECK(single.status == 404);
  CHECK(label_of(single) == "other");
  CHECK(unmatched_message(single, "GET", "/tenants") == "no such path: /tenants");
  // As in multi-tenant mode, an admin key is looked at before the 404.
  CHECK(single.auth() == auth_kind::admin_or_tenant);
  CHECK(match("POST", "/tenants", false).status == 404);
  CHECK(match("POST", "/tenants", true).status == 405);
}

TEST_CASE("routes of one path share authentication and limits") {
  for (const auto& a : routes())
    for (const auto& b : routes())
      if (a.path == b.path && a.suffix == b.suffix) {
        INFO(a.doc);
        CHECK(a.auth == b.auth);
        CHECK(a.rate_limited == b.rate_limited);
        CHECK(a.multi_tenant_only == b.multi_tenant_only);
        CHECK((a.methods & b.methods) == (&a == &b ? a.methods : 0));
      }
}

TEST_CASE("the metrics labels are the table's, in the order /metrics shows them") {
  std::vector<std::string> labels(route_labels().begin(), route_labels().end());
  CHECK(labels == std::vector<std::string>{"events_post", "events_get", "events_batch",
                                           "events_stream", "events_export", "events_import",
                                           "position", "subscription_get",
                                           "subscription_save", "subscription_delete",
                                           "health", "metrics",
                                           "metrics_stream", "tenants", "admin_backup",
                                           "dashboard", "stream_create", "stream_append",
                                           "stream_read", "stream_delete", "other"});
  CHECK(route_labels()[other_label_index()] == std::string{"other"});
  auto ops = read_doc("OPERATIONS.md");
  std::string listed;
  for (const auto& l : labels)
    listed += (listed.empty() ? "`" : ", `") + l + "`";
  auto at = ops.find("Routes: ");
  REQUIRE(at != std::string::npos);
  std::string routes_line = ops.substr(at, ops.find(" (unknown", at) - at);
  for (char& c : routes_line)
    if (c == '\n')
      c = ' ';
  CHECK(routes_line == "Routes: " + listed);
}

TEST_CASE("the API documentation lists every path with its methods") {
  auto api = read_doc("API.md");
  std::set<std::string> paths;
  for (const auto& r : routes()) {
    std::string doc{r.doc};
    if (r.methods == 0 || !paths.insert(doc).second)
      continue; // a namespace: the key table of API.md names it
    // A path of the route, and a method no route serves: the 405 lists the path's methods.
    std::string path = std::string{r.path} + (r.suffix.empty() && !r.prefix() ? "" : "x")
                       + std::string{r.suffix};
    auto m = match("PATCH", path, true);
    INFO(doc);
    REQUIRE(m.status == 405);
    auto row = api.find("| `" + doc + "` ");
    REQUIRE(row != std::string::npos);
    auto line = api.substr(row, api.find('\n', row) - row);
    CHECK(line.find("| `" + m.allow + "` |") != std::string::npos);
  }
}

TEST_CASE("paths are cleaned as Go's ServeMux cleans them") {
  const std::pair<const char*, const char*> cases[] = {
    {"/position", "/position"},
    {"//position", "/position"},
    {"///events//stream", "/events/stream"},
    {"/events/./batch", "/events/batch"},
    {"/./position", "/position"},
    {"/events/../position", "/position"},
    {"/a/b/../../position", "/position"},
    {"/../position", "/position"},
    {"/..", "/"},
    {"//", "/"},
    {"/", "/"},
    {"/position/", "/position/"},
    {"/a/b/../", "/a/"},
    {"/a/b/..", "/a"},
    {"//subscriptions//x//position", "/subscriptions/x/position"},
    {"/subscriptions/x/./position", "/subscriptions/x/position"},
    {"/subscriptions/../position", "/position"},
    {"/subscriptions/a.b/position", "/subscriptions/a.b/position"},
    {"/subscriptions/.../position", "/subscriptions/.../position"},
  };
  for (auto [in, out] : cases) {
    INFO(in);
    CHECK(clean_path(in) == out);
    CHECK(is_clean_path(in) == (std::string{in} == out));
    CHECK(is_clean_path(clean_path(in)));
  }
}
