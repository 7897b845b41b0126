// tenants.yaml: every validation rule, hashed keys, warnings.
#include <catch2/catch.hpp>

#include "app/tenants_file.hpp"

using namespace ebuse;

namespace {

std::string parse_err(const std::string& yaml) {
  tenants_file f;
  std::string err;
  return parse_tenants_yaml(yaml, f, err) ? std::string{} : err;
}

} // namespace

TEST_CASE("a valid tenants file yields specs with paths and hashed keys") {
  tenants_file f;
  std::string err;
  REQUIRE(parse_tenants_yaml(R"(
data_dir: "/srv/ebuse"
tenants:
  - name: "customer-a"
    api_key: "key-a"
  - name: customer_B-2
    api_key_sha256: "9A9F3B8B8C7C6A2D2C0B8B0C2C8F1C7B9B7B2A7D8E9F0A1B2C3D4E5F6A7B8C9D"
)",
                             f, err));
  CHECK(f.data_dir == "/srv/ebuse");
  REQUIRE(f.tenants.size() == 2);
  CHECK(f.tenants[0].name == "customer-a");
  CHECK(f.tenants[0].db_path == "/srv/ebuse/customer-a.db");
  CHECK(f.tenants[0].key == digest_of("key-a"));
  CHECK(f.tenants[1].key[0] == 0x9a);
  CHECK(f.tenants[1].key[31] == 0x9d);
  CHECK(f.warnings.empty());
}

TEST_CASE("data_dir defaults to data and unknown keys only warn") {
  tenants_file f;
  std::string err;
  REQUIRE(parse_tenants_yaml("listen: 1\ntenants:\n  - {name: a, api_key: k, plan: gold}\n",
                             f, err));
  CHECK(f.data_dir == "data");
  CHECK(f.tenants[0].db_path == "data/a.db");
  REQUIRE(f.warnings.size() == 2);
  CHECK(f.warnings[0].find("listen") != std::string::npos);
  CHECK(f.warnings[1].find("plan") != std::string::npos);
}

TEST_CASE("a hashed key matches the digest of the clear key") {
  key_digest d;
  REQUIRE(parse_digest_hex(
    "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", d));
  CHECK(d == digest_of("foo"));
}

TEST_CASE("invalid tenants files are rejected with the reason") {
  CHECK(parse_err("tenants: [").find("unreadable YAML") != std::string::npos);
  CHECK(parse_err("- a\n- b\n").find("mapping") != std::string::npos);
  CHECK(parse_err("data_dir: x\n").find("no tenants") != std::string::npos);
  CHECK(parse_err("tenants: []\n").find("no tenants") != std::string::npos);
  CHECK(parse_err("tenants:\n  - {api_key: k}\n").find("missing name") != std::string::npos);
  for (auto bad : {"a b", "../etc", "a/b", "", "x.db", "é"}) {
    INFO(bad);
    auto err = parse_err(std::string{"tenants:\n  - {name: \""} + bad + "\", api_key: k}\n");
    CHECK((err.find("invalid name") != std::string::npos
           || err.find("missing name") != std::string::npos));
  }
  CHECK(parse_err("tenants:\n  - {name: " + std::string(101, 'a') + ", api_key: k}\n")
          .find("invalid name")
        != std::string::npos);
  CHECK(parse_err("tenants:\n  - {name: a, api_key: k}\n  - {name: a, api_key: j}\n")
          .find("duplicate name")
        != std::string::npos);
  CHECK(parse_err("tenants:\n  - {name: a, api_key: k}\n  - {name: b, api_key: k}\n")
          .find("duplicate API key")
        != std::string::npos);
  CHECK(parse_err("tenants:\n  - {name: a, api_key: \"\"}\n").find("empty api_key")
        != std::string::npos);
  CHECK(parse_err("tenants:\n  - {name: a}\n").find("api_key") != std::string::npos);
  CHECK(parse_err("tenants:\n  - {name: a, api_key: k, api_key_sha256: "
                  "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}\n")
          .find("not both")
        != std::string::npos);
  CHECK(parse_err("tenants:\n  - {name: a, api_key_sha256: abc}\n").find("64 hex")
        != std::string::npos);
  // A clear key and the hash of the same key are one key.
  CHECK(parse_err("tenants:\n  - {name: a, api_key: foo}\n  - {name: b, api_key_sha256: "
                  "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}\n")
          .find("duplicate API key")
        != std::string::npos);
  // Keys never appear in error messages.
  CHECK(parse_err("tenants:\n  - {name: a, api_key: s3cret}\n  - {name: a, api_key: s3cret2}\n")
          .find("s3cret")
        == std::string::npos);
}

TEST_CASE("a thousand tenants parse") {
  std::string yaml = "tenants:\n";
  for (int i = 0; i < 1000; ++i)
    yaml += "  - {name: t" + std::to_string(i) + ", api_key: key-" + std::to_string(i) + "}\n";
  tenants_file f;
  std::string err;
  REQUIRE(parse_tenants_yaml(yaml, f, err));
  CHECK(f.tenants.size() == 1000);
}

TEST_CASE("admin keys are read as clear or hashed keys and may not open a tenant") {
  tenants_file f;
  std::string err;
  REQUIRE(parse_tenants_yaml("admin_keys:\n  - adm\n  - {api_key_sha256: "
                             "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae}\n"
                             "tenants:\n  - {name: a, api_key: k}\n",
                             f, err));
  REQUIRE(f.admin_keys.size() == 2);
  CHECK(f.admin_keys[0] == digest_of("adm"));
  CHECK(f.admin_keys[1] == digest_of("foo"));
  CHECK(f.warnings.empty());
  CHECK(parse_err("admin_keys: adm\ntenants:\n  - {name: a, api_key: k}\n")
          .find("must be a list")
        != std::string::npos);
  CHECK(parse_err("admin_keys: [\"\"]\ntenants:\n  - {name: a, api_key: k}\n")
          .find("admin_keys #1")
        != std::string::npos);
  CHECK(parse_err("admin_keys: [k]\ntenants:\n  - {name: a, api_key: k}\n")
          .find("duplicate API key")
        != std::string::npos);
}

TEST_CASE("storage and database_url are file-level: they apply to every tenant") {
  tenants_file f;
  std::string err;
  REQUIRE(parse_tenants_yaml(R"(
storage: postgres
database_url: "postgresql://ebuse@127.0.0.1:5432/events"
tenants:
  - name: a
    api_key: ka
  - name: b
    api_key: kb
)",
                             f, err));
  CHECK(f.warnings.empty());
  storage_choice chosen;
  REQUIRE(settle_storage(f, storage_choice{}, chosen, err));
  CHECK(chosen.storage == "postgres");
  for (const auto& t : f.tenants)
    CHECK(t.database_url == "postgresql://ebuse@127.0.0.1:5432/events");
}

TEST_CASE("without storage keys the file takes STORAGE and DATABASE_URL") {
  tenants_file f;
  std::string err;
  REQUIRE(parse_tenants_yaml("tenants:\n  - name: a\n    api_key: ka\n", f, err));
  storage_choice chosen;
  REQUIRE(settle_storage(f, storage_choice{"postgres", "postgresql://h/db"}, chosen, err));
  CHECK(f.tenants[0].database_url == "postgresql://h/db");
  REQUIRE(settle_storage(f, storage_choice{}, chosen, err));
  CHECK(chosen.storage == "sqlite");
  CHECK(f.tenants[0].database_url.empty());
}

TEST_CASE("invalid storage settings in a tenants file name the key") {
  CHECK(parse_err("tenants:\n  - name: a\n    api_key: ka\n    storage: postgres\n")
          .find("storage is set for the whole file") != std::string::npos);
  CHECK(parse_err("tenants:\n  - name: a\n    api_key: ka\n    database_url: x\n")
          .find("database_url is set for the whole file") != std::string::npos);
  CHECK(parse_err("storage: [a]\ntenants:\n  - name: a\n    api_key: ka\n")
          .find("storage must be") != std::string::npos);
  auto settle = [](const std::string& yaml) {
    tenants_file f;
    std::string err;
    REQUIRE(parse_tenants_yaml(yaml, f, err));
    storage_choice chosen;
    CHECK_FALSE(settle_storage(f, storage_choice{}, chosen, err));
    return err;
  };
  CHECK(settle("storage: oracle\ntenants:\n  - name: a\n    api_key: ka\n")
          .find("invalid storage=\"oracle\"") != std::string::npos);
  CHECK(settle("storage: postgres\ntenants:\n  - name: a\n    api_key: ka\n")
          .find("needs database_url") != std::string::npos);
  auto leaked = settle("storage: postgres\ndatabase_url: \"ftp://u:topsecret@h/db\"\n"
                       "tenants:\n  - name: a\n    api_key: ka\n");
  CHECK(leaked.find("invalid database_url") != std::string::npos);
  CHECK(leaked.find("topsecret") == std::string::npos);
}
