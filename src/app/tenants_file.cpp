// Loads tenants.yaml with yaml-cpp; keys are hashed at once and never kept in clear.
#include "app/tenants_file.hpp"

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include "app/config.hpp"

namespace ebuse {

namespace {

bool scalar(const YAML::Node& n) {
  return n && n.IsScalar();
}

std::string where(size_t i, const std::string& name) {
  return "tenant #" + std::to_string(i + 1) + (name.empty() ? "" : " (" + name + ")");
}

bool parse_tenant(const YAML::Node& node, size_t i, tenant_spec& spec, tenants_file& out,
                  std::string& err) {
  if (!node.IsMap()) {
    err = where(i, "") + ": expected a mapping with name and api_key";
    return false;
  }
  auto name = node["name"];
  if (!scalar(name)) {
    err = where(i, "") + ": missing name";
    return false;
  }
  spec.name = name.as<std::string>();
  if (!valid_tenant_name(spec.name)) {
    err = where(i, "") + ": invalid name \"" + spec.name
          + "\": expected 1 to 100 characters from A-Z a-z 0-9 _ -";
    return false;
  }
  auto key = node["api_key"];
  auto hashed = node["api_key_sha256"];
  if (key && hashed) {
    err = where(i, spec.name) + ": give api_key or api_key_sha256, not both";
    return false;
  }
  if (hashed) {
    if (!scalar(hashed) || !parse_digest_hex(hashed.as<std::string>(), spec.key)) {
      err = where(i, spec.name) + ": api_key_sha256 must be 64 hex digits";
      return false;
    }
  } else {
    if (!scalar(key) || key.as<std::string>().empty()) {
      err = where(i, spec.name) + ": missing or empty api_key";
      return false;
    }
    spec.key = digest_of(key.as<std::string>());
  }
  for (const auto& kv : node) {
    auto k = kv.first.as<std::string>();
    if (k == "storage" || k == "database_url") {
      err = where(i, spec.name) + ": " + k
            + " is set for the whole file (top level), not per tenant";
      return false;
    }
    if (k != "name" && k != "api_key" && k != "api_key_sha256")
      out.warnings.push_back(where(i, spec.name) + ": unknown key \"" + k + "\" ignored");
  }
  return true;
}

// admin_keys: a list of keys, each a string or {api_key_sha256: <hex>}.
bool parse_admin_keys(const YAML::Node& node, tenants_file& out, std::string& err) {
  if (!node)
    return true;
  if (!node.IsSequence()) {
    err = "admin_keys must be a list";
    return false;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    key_digest d;
    auto item = node[i];
    if (scalar(item) && !item.as<std::string>().empty()) {
      d = digest_of(item.as<std::string>());
    } else if (item.IsMap() && scalar(item["api_key_sha256"])
               && parse_digest_hex(item["api_key_sha256"].as<std::string>(), d)) {
    } else {
      err = "admin_keys #" + std::to_string(i + 1)
            + ": expected a non-empty key or {api_key_sha256: <64 hex digits>}";
      return false;
    }
    out.admin_keys.push_back(d);
  }
  return true;
}

} // namespace

bool parse_tenants_yaml(const std::string& text, tenants_file& out, std::string& err) {
  out = tenants_file{};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& ex) {
    err = std::string{"unreadable YAML: "} + ex.what();
    return false;
  }
  try {
    if (!root.IsMap()) {
      err = "expected a mapping with data_dir and tenants";
      return false;
    }
    for (const auto& kv : root) {
      auto k = kv.first.as<std::string>();
      if (k != "data_dir" && k != "tenants" && k != "admin_keys" && k != "storage"
          && k != "database_url")
        out.warnings.push_back("unknown top-level key \"" + k + "\" ignored");
    }
    if (auto dd = root["data_dir"]) {
      if (!scalar(dd) || dd.as<std::string>().empty()) {
        err = "data_dir must be a non-empty path";
        return false;
      }
      out.data_dir = dd.as<std::string>();
    }
    for (auto [key, field] : {std::pair{"storage", &out.storage},
                              std::pair{"database_url", &out.database_url}}) {
      auto n = root[key];
      if (!n)
        continue;
      if (!scalar(n) || n.as<std::string>().empty()) {
        err = std::string{key} + " must be a non-empty string";
        return false;
      }
      *field = n.as<std::string>();
    }
    if (!parse_admin_keys(root["admin_keys"], out, err))
      return false;
    auto list = root["tenants"];
    if (!list || !list.IsSequence() || list.size() == 0) {
      err = "no tenants: expected a non-empty list under tenants";
      return false;
    }
    std::set<std::string> names, keys;
    for (size_t i = 0; i < list.size(); ++i) {
      tenant_spec spec;
      if (!parse_tenant(list[i], i, spec, out, err))
        return false;
      if (!names.insert(spec.name).second) {
        err = where(i, spec.name) + ": duplicate name";
        return false;
      }
      if (!keys.insert(digest_key(spec.key)).second
          || std::count(out.admin_keys.begin(), out.admin_keys.end(), spec.key) > 0) {
        err = where(i, spec.name) + ": duplicate API key (already used by another tenant or an admin)";
        return false;
      }
      spec.db_path = out.data_dir + "/" + spec.name + ".db";
      out.tenants.push_back(std::move(spec));
    }
  } catch (const YAML::Exception& ex) {
    err = std::string{"invalid tenants file: "} + ex.what();
    return false;
  }
  return true;
}

bool load_tenants_file(const std::string& path, tenants_file& out, std::string& err) {
  std::ifstream in{path};
  if (!in) {
    err = "cannot read " + path;
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (!parse_tenants_yaml(buf.str(), out, err)) {
    err = path + ": " + err;
    return false;
  }
  return true;
}

bool ensure_data_dir(const std::string& dir, std::string& err) {
  if (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST) {
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      return true;
    err = "data_dir " + dir + " is not a directory";
    return false;
  }
  err = "cannot create data_dir " + dir + ": " + std::strerror(errno);
  return false;
}

bool settle_storage(tenants_file& file, const storage_choice& env, storage_choice& out,
                    std::string& err) {
  bool own = !file.storage.empty() || !file.database_url.empty();
  out.storage = own ? (file.storage.empty() ? "sqlite" : file.storage) : env.storage;
  out.database_url = own ? file.database_url : env.database_url;
  if (!own ? !check_storage(out.storage, out.database_url, err)
           : !check_storage(out.storage, out.database_url, err, "storage", "database_url"))
    return false;
  for (auto& t : file.tenants)
    t.database_url = out.storage == "postgres" ? out.database_url : std::string{};
  return true;
}

bool reload_tenants(const std::string& path, tenant_registry& registry, tenants_file& file,
                    std::string& err, const std::vector<key_digest>& extra_admin_keys,
                    const storage_choice& env, const storage_choice& running) {
  storage_choice chosen;
  if (!load_tenants_file(path, file, err) || !settle_storage(file, env, chosen, err))
    return false;
  if (chosen.storage != running.storage || chosen.database_url != running.database_url) {
    err = path + ": storage or database_url differs from the running configuration; "
                 "a change of storage needs a restart";
    return false;
  }
  if (chosen.storage == "sqlite" && !ensure_data_dir(file.data_dir, err))
    return false;
  auto admins = file.admin_keys;
  admins.insert(admins.end(), extra_admin_keys.begin(), extra_admin_keys.end());
  registry.reload(file.tenants, std::move(admins));
  return true;
}

} // namespace ebuse
