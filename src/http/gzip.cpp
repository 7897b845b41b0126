// gzip with zlib: the Accept-Encoding rule, whole bodies, and streamed bodies.
#include "http/gzip.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <zlib.h>

#include "core/ascii.hpp"
#include "http/client_ip.hpp"
#include "http/request_state.hpp"

namespace ebuse {

namespace {

// q-value of one coding element (`gzip;q=0.5`); 1 when absent, 0 when malformed.
double q_of(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    auto p = trim_ows(params.substr(0, semi));
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      std::string v{trim_ows(p.substr(2))};
      char* end = nullptr;
      double q = std::strtod(v.c_str(), &end);
      return end && *end == '\0' && !v.empty() ? q : 0;
    }
    if (semi == std::string_view::npos)
      break;
    params.remove_prefix(semi + 1);
  }
  return 1;
}

} // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  double gzip_q = -1, star_q = -1;
  while (!accept_encoding.empty()) {
    auto comma = accept_encoding.find(',');
    auto element = accept_encoding.substr(0, comma);
    auto semi = element.find(';');
    auto coding = trim_ows(element.substr(0, semi));
    double q = semi == std::string_view::npos ? 1 : q_of(element.substr(semi + 1));
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
      gzip_q = std::max(gzip_q, q);
    else if (coding == "*")
      star_q = q;
    if (comma == std::string_view::npos)
      break;
    accept_encoding.remove_prefix(comma + 1);
  }
  return gzip_q >= 0 ? gzip_q > 0 : star_q > 0;
}

struct gzip_encoder::state {
  z_stream zs{};
  bool ok = false;
};

gzip_encoder::gzip_encoder() : z_(new state) {
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's. Level 6 (zlib's
  // default): event JSON is repetitive, and higher levels buy little for their time
  // (figures in docs/PERFORMANCE.md).
  z_->ok = deflateInit2(&z_->zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

gzip_encoder::~gzip_encoder() {
  if (z_->ok)
    deflateEnd(&z_->zs);
  delete z_;
}

bool gzip_encoder::compress(std::string_view in, bool sync, bool finish, std::string& out) {
  if (!z_->ok)
    return false;
  auto& zs = z_->zs;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  // zlib counts input in 32 bits: a page larger than 4 GiB is fed in parts, and only
  // the last part carries the flush.
  constexpr std::size_t part = std::size_t{1} << 30;
  std::size_t left = in.size();
  char buf[16384];
  for (;;) {
    std::size_t now = std::min(left, part);
    zs.avail_in = static_cast<uInt>(now);
    left -= now;
    int flush = left > 0 ? Z_NO_FLUSH : finish ? Z_FINISH : (sync ? Z_SYNC_FLUSH : Z_NO_FLUSH);
    for (;;) {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof(buf);
      int rc = deflate(&zs, flush);
      if (rc == Z_STREAM_ERROR)
        return false;
      out.append(buf, sizeof(buf) - zs.avail_out);
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs.avail_in == 0 && zs.avail_out != 0))
        break;
    }
    if (left == 0)
      return true;
  }
}

std::string gzip_compress(std::string_view in) {
  gzip_encoder enc;
  std::string out;
  out.reserve(in.size() / 4 + 64);
  enc.compress(in, false, true, out);
  return out;
}

void send_event_json(httplib::Response& res, std::string body) {
  auto& e = current_request();
  res.status = 200;
  if (e.gzip_enabled)
    res.set_header("Vary", "Accept-Encoding");
  if (e.accepts_gzip && body.size() >= e.gzip_min_bytes) {
    res.set_header("Content-Encoding", "gzip");
    body = gzip_compress(body);
  }
  res.set_content(std::move(body), "application/json");
}

bool begin_event_stream(httplib::Response& res, bool large) {
  auto& e = current_request();
  if (e.gzip_enabled)
    res.set_header("Vary", "Accept-Encoding");
  bool gzip = e.accepts_gzip && large;
  if (gzip)
    res.set_header("Content-Encoding", "gzip");
  return gzip;
}

stream_body::stream_body(bool gzip) : gzip_(gzip) {
}

bool stream_body::send(httplib::DataSink& sink, const std::string& bytes) {
  if (bytes.empty())
    return true;
  current_request().body_bytes += bytes.size();
  return sink.write(bytes.data(), bytes.size());
}

bool stream_body::write(httplib::DataSink& sink, const char* data, std::size_t len) {
  // An empty chunk would end a chunked body.
  if (len == 0)
    return true;
  if (!gzip_) {
    current_request().body_bytes += len;
    return sink.write(data, len);
  }
  if (!enc_.compress({data, len}, false, false, out_))
    return false;
  // zlib holds small inputs back; large outputs go out at once.
  if (out_.size() < 16384)
    return true;
  bool ok = send(sink, out_);
  out_.clear();
  return ok;
}

bool stream_body::flush(httplib::DataSink& sink) {
  if (!gzip_)
    return true;
  bool ok = enc_.compress({}, true, false, out_) && send(sink, out_);
  out_.clear();
  return ok;
}

bool stream_body::finish(httplib::DataSink& sink) {
  if (gzip_) {
    bool ok = enc_.compress({}, false, true, out_) && send(sink, out_);
    out_.clear();
    if (!ok)
      return false;
  }
  sink.done();
  return true;
}

} // namespace ebuse
