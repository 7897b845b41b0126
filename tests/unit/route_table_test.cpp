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
    {"GET /health", "health"},                {"GET /metrics", "metrics"},
    {"GET /metrics/prometheus", "metrics"},   {"GET /tenants", "tenants"},
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
  CHECK(match("DELETE", "/subscriptions/x/position", true).allow == "GET, POST, PUT");
  CHECK(match("PATCH", "/subscriptions/x/position", true).status == 405);
  // A 405 keeps the path's rules: /health needs no key and is not limited.
  auto health = match("POST", "/health", true);
  CHECK(health.status == 405);
  CHECK(health.auth() == auth_kind::none);
  CHECK_FALSE(health.rate_limited());
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
    auto del = match("DELETE", path, true);
    CHECK(del.status == 404);
    CHECK(unmatched_message(del, "DELETE", path) == std::string{"no such path: "} + path);
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
                                           "events_stream", "position", "subscription_get",
                                           "subscription_save", "health", "metrics",
                                           "tenants", "other"});
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
    if (!paths.insert(doc).second)
      continue;
    auto m = match("DELETE", r.suffix.empty() ? doc : "/subscriptions/x/position", true);
    INFO(doc);
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
