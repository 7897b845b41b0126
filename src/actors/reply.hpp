// One-shot reply channels from actors to threads outside the actor system.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include <caf/expected.hpp>

#include "storage/errc.hpp"

namespace ebuse {

/// The sending half of a reply, carried inside a command message. If every copy is
/// destroyed without a value (the actor died, or dropped the message), the waiter is
/// woken at once with `errc::storage_unavailable` instead of waiting for its timeout:
/// the broken-promise notice CAF 0.17's response promises lack.
template <class T>
using reply_to = std::shared_ptr<std::promise<caf::expected<T>>>;

/// The receiving half.
template <class T>
using reply_future = std::future<caf::expected<T>>;

/// Creates a connected reply channel.
template <class T>
std::pair<reply_to<T>, reply_future<T>> make_reply() {
  auto tx = std::make_shared<std::promise<caf::expected<T>>>();
  auto rx = tx->get_future();
  return {std::move(tx), std::move(rx)};
}

/// Delivers `value` once; later calls are ignored.
template <class T>
void deliver(const reply_to<T>& tx, caf::expected<T> value) {
  try {
    tx->set_value(std::move(value));
  } catch (const std::future_error&) {
    // Already satisfied: the first answer stands.
  }
}

/// Waits at most `timeout` for the reply. A timeout does not mean that the request
/// failed: a write may still commit after the waiter gave up.
template <class T, class Rep, class Period>
caf::expected<T> await(reply_future<T>& rx, std::chrono::duration<Rep, Period> timeout) {
  if (rx.wait_for(timeout) != std::future_status::ready)
    return make_error(errc::timeout, "no reply from the store in time");
  try {
    return rx.get();
  } catch (const std::future_error&) {
    return make_error(errc::storage_unavailable, "the store stopped before replying");
  }
}

} // namespace ebuse
