// One-shot reply channels from actors to threads outside the actor system.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include <caf/expected.hpp>
#include <caf/send.hpp>

#include "core/errc.hpp"

namespace ebuse {

namespace detail {

/// Threads waiting for a reply right now, spinning or asleep.
inline std::atomic<int> reply_waiters{0};

/// How long a lone waiter spins before it sleeps. A commit or a page read is answered
/// in about the time that waking a sleeping thread takes (docs/PERFORMANCE.md); with
/// other waiters around, spinning would take CPU the actors need.
constexpr auto reply_spin = std::chrono::microseconds(200);

template <class T>
struct reply_state {
  std::atomic<bool> ready{false};
  std::mutex mtx;
  std::condition_variable cv;
  bool sleeping = false; // guarded by mtx
  /// The waiter gave up (its timeout passed) before an answer came.
  std::atomic<bool> abandoned{false};
  std::optional<caf::expected<T>> value;

  // The first answer stands.
  void set(caf::expected<T>&& v) {
    std::unique_lock<std::mutex> lock{mtx};
    if (ready.load(std::memory_order_relaxed))
      return;
    value.emplace(std::move(v));
    ready.store(true, std::memory_order_release);
    bool wake = sleeping;
    lock.unlock();
    if (wake)
      cv.notify_one();
  }
};

/// The sending half. If it is destroyed without having answered (the actor died, or
/// dropped the message), the waiter gets `errc::storage_unavailable` at once instead
/// of waiting for its timeout: the broken-promise notice CAF 0.17's response promises
/// lack.
template <class T>
class reply_sender {
public:
  using value_type = T;

  explicit reply_sender(std::shared_ptr<reply_state<T>> st) : st_(std::move(st)) {
  }
  reply_sender(const reply_sender&) = delete;
  reply_sender& operator=(const reply_sender&) = delete;
  ~reply_sender() {
    st_->set(make_error(errc::storage_unavailable, "the store stopped before replying"));
  }
  void set(caf::expected<T>&& v) {
    st_->set(std::move(v));
  }
  /// Whether the waiter has given up: a write it asked for may be dropped unwritten.
  bool abandoned() const noexcept {
    return st_->abandoned.load(std::memory_order_acquire);
  }

private:
  std::shared_ptr<reply_state<T>> st_;
};

} // namespace detail

/// The sending half of a reply, carried inside a command message (shared: a message may
/// be copied); see detail::reply_sender.
template <class T>
using reply_to = std::shared_ptr<detail::reply_sender<T>>;

/// The receiving half.
template <class T>
class reply_future {
public:
  reply_future() = default;
  explicit reply_future(std::shared_ptr<detail::reply_state<T>> st) : st_(std::move(st)) {
  }

  /// The shared state (for await).
  detail::reply_state<T>* state() const noexcept {
    return st_.get();
  }

private:
  std::shared_ptr<detail::reply_state<T>> st_;
};

/// Creates a connected reply channel.
template <class T>
std::pair<reply_to<T>, reply_future<T>> make_reply() {
  auto st = std::make_shared<detail::reply_state<T>>();
  return {std::make_shared<detail::reply_sender<T>>(st), reply_future<T>{st}};
}

/// Delivers `value` once; later calls are ignored.
template <class T>
void deliver(const reply_to<T>& tx, caf::expected<T> value) {
  tx->set(std::move(value));
}

/// Waits at most `timeout` for the reply. A timeout does not mean that the request
/// failed: a write may still commit after the waiter gave up. A waiter alone (no other
/// thread waiting for a reply) spins for up to detail::reply_spin first, which saves
/// the wake-up of a sleeping thread on every request of a lone client.
template <class T, class Rep, class Period>
caf::expected<T> await(reply_future<T>& rx, std::chrono::duration<Rep, Period> timeout) {
  auto* st = rx.state();
  if (!st)
    return make_error(errc::storage_unavailable, "no request was sent");
  if (!st->ready.load(std::memory_order_acquire)) {
    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(timeout);
    bool alone = detail::reply_waiters.fetch_add(1, std::memory_order_relaxed) == 0;
    if (alone) {
      auto spin_until = std::min(deadline, clock::now() + detail::reply_spin);
      for (unsigned i = 1; !st->ready.load(std::memory_order_acquire); ++i) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (i % 64 == 0 && clock::now() >= spin_until)
          break;
      }
    }
    bool ready = st->ready.load(std::memory_order_acquire);
    if (!ready) {
      std::unique_lock<std::mutex> lock{st->mtx};
      st->sleeping = true;
      ready = st->cv.wait_until(lock, deadline, [st] {
        return st->ready.load(std::memory_order_acquire);
      });
      st->sleeping = false;
      if (!ready)
        st->abandoned.store(true, std::memory_order_release);
    }
    detail::reply_waiters.fetch_sub(1, std::memory_order_relaxed);
    if (!ready)
      return make_error(errc::timeout, "no reply from the store in time");
  }
  return std::move(*st->value);
}

/// Sends `cmd` (a command whose `reply` member is a reply_to<T>) to `dest`, keeping the
/// receiving half of its reply.
template <class Handle, class Cmd>
auto dispatch(const Handle& dest, Cmd cmd) {
  using T = typename decltype(cmd.reply)::element_type::value_type;
  auto [tx, rx] = make_reply<T>();
  cmd.reply = std::move(tx);
  caf::anon_send(dest, std::move(cmd));
  return std::move(rx);
}

/// Sends `cmd` to `dest` and waits for the answer at most `timeout`. The command holds
/// the only sending half, so an actor that dies without answering wakes the waiter at
/// once.
template <class Handle, class Cmd>
auto ask(const Handle& dest, Cmd cmd, std::chrono::nanoseconds timeout) {
  auto rx = dispatch(dest, std::move(cmd));
  return await(rx, timeout);
}

} // namespace ebuse
