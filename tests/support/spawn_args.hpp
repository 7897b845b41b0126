// Argument and environment arrays for posix_spawn.
#pragma once

#include <string>
#include <vector>

namespace ebuse::test {

/// The null-terminated array of C strings of `v` (argv, envp); `v` must outlive it.
inline std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> p;
  for (auto& s : v)
    p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

} // namespace ebuse::test
