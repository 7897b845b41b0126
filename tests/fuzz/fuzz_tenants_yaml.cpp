// Fuzzes parse_tenants_yaml: no crash or exception; an accepted file names only valid,
// unique tenants whose files live directly in data_dir.
#include <set>

#include "app/tenants_file.hpp"
#include "fuzz_check.hpp"

using namespace ebuse;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text{reinterpret_cast<const char*>(data), size};
  tenants_file file;
  std::string err;
  if (!parse_tenants_yaml(text, file, err)) {
    FUZZ_CHECK(!err.empty());
    return 0;
  }
  FUZZ_CHECK(!file.tenants.empty() && !file.data_dir.empty());
  std::set<std::string> names;
  for (const auto& t : file.tenants) {
    FUZZ_CHECK(valid_tenant_name(t.name));
    FUZZ_CHECK(names.insert(t.name).second);
    FUZZ_CHECK(t.db_path.size() > t.name.size() + 3);
    FUZZ_CHECK(t.db_path.compare(t.db_path.size() - t.name.size() - 3, std::string::npos,
                                 t.name + ".db")
               == 0);
  }
  return 0;
}
