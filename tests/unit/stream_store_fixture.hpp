// A tenant database with the stream writer and a reader on real SQLite files in a temp dir.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "storage/event_store.hpp"
#include "storage/stream_store.hpp"
#include "streams/content_type.hpp"
#include "support/temp_dir.hpp"

namespace Catch {
template <>
struct StringMaker<ebuse::streams::offset> {
  static std::string convert(const ebuse::streams::offset& o) {
    return ebuse::streams::format_offset(o);
  }
};
} // namespace Catch

namespace ebuse::test {

namespace ds = streams;

/// A clock the tests move by hand.
constexpr int64_t t0 = 1700000000000;

inline ds::create_request make_create(std::string path, std::string type = "text/plain",
                                      std::string body = "") {
  ds::create_request r;
  r.path = std::move(path);
  r.content_type = std::move(type);
  r.body = ds::prepare_body(std::move(body), ds::is_json(r.content_type));
  return r;
}

inline ds::create_request make_fork(std::string path, std::string source,
                                    std::optional<ds::offset> at = std::nullopt,
                                    int64_t sub = 0) {
  ds::create_request r;
  r.path = std::move(path);
  r.fork = ds::fork_request{std::move(source), at, sub};
  r.body = ds::prepare_body("", false);
  return r;
}

inline ds::append_request make_append(std::string path, std::string body,
                                      std::string type = "text/plain") {
  ds::append_request r;
  r.path = std::move(path);
  r.content_type = std::move(type);
  r.body = ds::prepare_body(std::move(body), ds::is_json(r.content_type));
  return r;
}

/// Opens (and reopens) a tenant file; every write runs in its own transaction, as a
/// group of one in the tenant writer.
class stream_store_fixture {
public:
  explicit stream_store_fixture(stream_limits limits = {}) : limits_(limits) {
    path_ = dir_.file("tenant.db");
    reopen();
  }

  /// Closes every connection and opens the file again (what a restart does).
  void reopen() {
    sreader_.reset();
    reader_.reset();
    swriter_.reset();
    writer_.reset();
    auto w = store_writer::open(path_);
    REQUIRE(w);
    writer_ = std::move(*w);
    auto sw = stream_writer::open(writer_->connection(), limits_);
    REQUIRE(sw);
    swriter_ = std::move(*sw);
    auto r = store_reader::open(path_);
    REQUIRE(r);
    reader_ = std::move(*r);
    auto sr = stream_reader::open(reader_->connection());
    REQUIRE(sr);
    sreader_ = std::move(*sr);
  }

  template <class F>
  ds::write_result in_txn(F f) {
    REQUIRE_FALSE(writer_->begin());
    auto res = f(*swriter_);
    REQUIRE(res);
    REQUIRE_FALSE(writer_->commit());
    return *res;
  }

  ds::write_result create(const ds::create_request& req, int64_t now = t0) {
    return in_txn([&](stream_writer& w) { return w.create(req, now); });
  }

  ds::write_result append(const ds::append_request& req, int64_t now = t0) {
    return in_txn([&](stream_writer& w) { return w.append(req, now); });
  }

  ds::write_result remove(const std::string& path, int64_t now = t0) {
    return in_txn([&](stream_writer& w) { return w.remove(path, now); });
  }

  ds::read_result read(const std::string& path, ds::offset_spec from = {}, int64_t now = t0,
                       int64_t max_rows = 10000, int64_t max_bytes = 1 << 20) {
    ds::read_request req;
    req.path = path;
    req.from = from;
    req.max_rows = max_rows;
    req.max_bytes = max_bytes;
    auto res = sreader_->read(req, now);
    REQUIRE(res);
    return *res;
  }

  ds::read_result read_at(const std::string& path, ds::offset at, int64_t now = t0) {
    return read(path, ds::offset_spec{ds::offset_kind::at, at}, now);
  }

  stream_writer& writer() {
    return *swriter_;
  }
  store_writer& store() {
    return *writer_;
  }
  const std::string& path() const {
    return path_;
  }

private:
  temp_dir dir_;
  std::string path_;
  stream_limits limits_;
  std::unique_ptr<store_writer> writer_;
  std::unique_ptr<stream_writer> swriter_;
  std::unique_ptr<store_reader> reader_;
  std::unique_ptr<stream_reader> sreader_;
};

} // namespace ebuse::test
