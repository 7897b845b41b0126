// Waiting for a condition another thread brings about, with a deadline instead of a sleep.
#pragma once

#include <chrono>
#include <thread>

namespace ebuse::test {

/// Polls `pred` every 2 ms until it holds or `limit` passes; answers its last value.
template <class F>
bool eventually(F pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return pred();
}

} // namespace ebuse::test
