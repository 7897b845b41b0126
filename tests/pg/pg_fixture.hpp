// Helpers of the PostgreSQL tests: a fresh migrated database, events, groups, reads.
#pragma once

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "core/errc.hpp"
#include "storage/pg_reader.hpp"
#include "storage/pg_schema.hpp"
#include "storage/pg_store.hpp"
#include "support/pg_cluster.hpp"

namespace ebuse::test {

/// A fresh database on the shared cluster with the schema migrated; its URL.
inline std::string fresh_pg_database(pg_cluster& cluster = shared_pg()) {
  auto url = cluster.create_database();
  auto err = pg::migrate_schema(url);
  if (err)
    FAIL("migrate: " << message_of(err));
  return url;
}

/// An event in stored form.
inline new_event pg_event(std::string type, std::string data,
                          std::string ts = "2024-01-01 00:00:00+00:00") {
  return {std::move(type), std::move(data), std::move(ts)};
}

/// An append of `n` events of type `type` with data {"i":k}.
inline append_request pg_append(int n, const std::string& type = "t", int64_t expected = -1) {
  append_request a;
  for (int k = 0; k < n; ++k)
    a.events.push_back(pg_event(type, "{\"i\":" + std::to_string(k) + "}"));
  a.expected_head = expected;
  return a;
}

/// A group of the given appends.
inline write_group pg_group(std::vector<append_request> appends) {
  write_group g;
  g.appends = std::move(appends);
  return g;
}

/// The page [from, to] of `tenant` as a JSON array, through `r`.
inline std::string pg_page(pg_reader& r, const std::string& tenant, int64_t from = 1,
                           int64_t to = -1, int64_t limit = 100000) {
  event_page page;
  auto err = r.load(tenant, from, to, limit, page);
  if (err)
    FAIL("load: " << message_of(err));
  return "[" + page.json + "]";
}

} // namespace ebuse::test
