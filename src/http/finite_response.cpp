// Finite chunked responses that go on in the event loop: a content provider's steps run
// one part at a time on a worker and the loop writes each part while the client reads.
#include <utility>

#include "http/continuation.hpp"

namespace ebuse {

namespace {

/// Runs a content provider's body against a sink that writes as the library does into
/// the loop's buffer: a chunked body one chunk per non-empty write and the last chunk at
/// done(); a body of known length its bytes as they are, ending at that length.
struct finite_continuation : response_continuation {
  using stepper = std::function<bool(size_t offset, httplib::DataSink&)>;

  finite_continuation(stepper s, bool is_chunked, size_t len)
    : step(std::move(s)), chunked(is_chunked), length(len) {
    sink.write = [this](const char* data, size_t n) {
      // The library writes no chunk for an empty write (one would end the body).
      if (n > 0 && chunked)
        append_chunk(*out, {data, n});
      else if (n > 0)
        out->append(data, n);
      bytes += n;
      return true;
    };
    sink.done = [this] { done = true; };
    sink.is_writable = [] { return true; };
  }

  ~finite_continuation() override {
    settle(); // given up: the client left, or the server cut it
  }

  bool finite() const noexcept override {
    return true;
  }

  bool account_at_end(response_account a) override {
    account = std::move(a);
    return true;
  }

  // A finite response does not wait and runs to its end also while the server stops:
  // the shutdown grace period cuts what is still unsent.
  continuation_step next_part(std::string& into, bool, const continuation_park&) override {
    out = &into;
    bool ok = step(static_cast<size_t>(bytes), sink);
    out = nullptr;
    if (!ok) {
      settle();
      return continuation_step::cut;
    }
    if (!chunked && bytes >= length)
      done = true;
    if (!done)
      return continuation_step::more;
    if (chunked)
      into.append(last_chunk);
    // Before its last part is sent: a client that has the whole body finds it counted.
    settle();
    return continuation_step::end;
  }

  void settle() {
    if (!account)
      return;
    auto a = std::move(account);
    account = nullptr;
    a(bytes);
  }

  stepper step;
  bool chunked;
  size_t length; ///< of a body that is not chunked
  httplib::DataSink sink;
  std::string* out = nullptr;
  bool done = false;
  uint64_t bytes = 0;
  response_account account;
};

} // namespace

std::function<bool(size_t, httplib::DataSink&)>
chunked_in_loop(std::shared_ptr<response_continuation> cont,
                std::function<bool(httplib::DataSink&)> step) {
  return [cont = std::move(cont), step = std::move(step), first = true](
           size_t, httplib::DataSink& sink) mutable {
    if (first) {
      first = false;
      if (continue_in_loop(cont))
        return false; // the loop goes on with next_part(); the library writes no more
    }
    return step(sink);
  };
}

std::function<bool(size_t, httplib::DataSink&)>
finite_in_loop(std::function<bool(httplib::DataSink&)> step) {
  auto cont = std::make_shared<finite_continuation>(
    [step = std::move(step)](size_t, httplib::DataSink& sink) { return step(sink); }, true, 0);
  auto* c = cont.get();
  return chunked_in_loop(std::move(cont),
                         [c](httplib::DataSink& sink) { return c->step(0, sink); });
}

httplib::ContentProvider finite_in_loop(size_t length, httplib::ContentProvider provider) {
  auto cont = std::make_shared<finite_continuation>(
    [provider = std::move(provider), length](size_t offset, httplib::DataSink& sink) {
      return provider(offset, length - offset, sink);
    },
    false, length);
  return [cont, first = true](size_t offset, size_t, httplib::DataSink& sink) mutable {
    if (first) {
      first = false;
      if (continue_in_loop(cont))
        return false;
    }
    return cont->step(offset, sink);
  };
}

} // namespace ebuse
