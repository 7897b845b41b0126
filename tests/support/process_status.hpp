// Figures of this test process from /proc/self/status.
#pragma once

#include <fstream>
#include <string>

namespace ebuse::test {

/// Threads of this process now (-1 if unknown).
inline int process_threads() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("Threads:", 0) == 0)
      return std::stoi(line.substr(8));
  return -1;
}

} // namespace ebuse::test
