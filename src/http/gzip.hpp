// Response compression: which clients get gzip, which bodies gain from it, and a
// streaming encoder for chunked responses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <httplib.h>

namespace ebuse {

/// Whether an `Accept-Encoding` value admits gzip: `gzip`, `x-gzip` or `*` with a
/// q-value above 0 (an explicit `gzip;q=0` refuses it even when `*` is accepted).
bool accepts_gzip(std::string_view accept_encoding);

/// Compresses `in` as one gzip member.
std::string gzip_compress(std::string_view in);

/// A streaming gzip encoder (zlib, RAII).
class gzip_encoder {
public:
  gzip_encoder();
  ~gzip_encoder();
  gzip_encoder(const gzip_encoder&) = delete;
  gzip_encoder& operator=(const gzip_encoder&) = delete;

  /// Compresses `in`, appending output to `out`. `sync` flushes so that the client can
  /// decode everything given so far; `finish` ends the member.
  bool compress(std::string_view in, bool sync, bool finish, std::string& out);

private:
  struct state;
  state* z_;
};

/// Sets an event response: JSON, gzip-compressed when the request's client accepts it
/// and the body reaches GZIP_MIN_BYTES, with `Vary: Accept-Encoding` while gzip is on.
void send_event_json(httplib::Response& res, std::string body);

/// Prepares a streamed event response; `large` says whether the body will reach
/// GZIP_MIN_BYTES. Returns whether it is to be compressed (and sets the headers).
bool begin_event_stream(httplib::Response& res, bool large);

/// The body of a streamed response as it goes to the library's sink: compressed or not,
/// flushed page by page, its size counted for the request log.
class stream_body {
public:
  explicit stream_body(bool gzip);
  stream_body(const stream_body&) = delete;
  stream_body& operator=(const stream_body&) = delete;

  /// Adds `data`.
  bool write(httplib::DataSink& sink, const char* data, std::size_t len);

  /// Sends what is buffered (end of a page).
  bool flush(httplib::DataSink& sink);

  /// Ends the body.
  bool finish(httplib::DataSink& sink);

private:
  bool send(httplib::DataSink& sink, const std::string& bytes);

  bool gzip_;
  gzip_encoder enc_;
  std::string out_;
};

} // namespace ebuse
