// GET /dashboard: the embedded page, its style and script inlined, under a strict CSP.
#include <string>

#include "core/key_digest.hpp"
#include "http/dashboard_assets.hpp"
#include "http/handlers.hpp"

namespace ebuse {

namespace {

constexpr std::string_view style_marker = "/*STYLE*/";
constexpr std::string_view script_marker = "/*SCRIPT*/";

std::string base64(const key_digest& d) {
  static const char table[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < d.size(); i += 3) {
    uint32_t v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    for (int s = 18; s >= 0; s -= 6)
      out.push_back(table[(v >> s) & 63]);
  }
  // 32 bytes: two left over.
  uint32_t v = (d[i] << 16) | (d[i + 1] << 8);
  out.push_back(table[(v >> 18) & 63]);
  out.push_back(table[(v >> 12) & 63]);
  out.push_back(table[(v >> 6) & 63]);
  out.push_back('=');
  return out;
}

void replace_marker(std::string& page, std::string_view marker, std::string_view with) {
  auto at = page.find(marker);
  if (at != std::string::npos)
    page.replace(at, marker.size(), with);
}

struct dashboard_page {
  std::string html;
  std::string csp;
};

// The key an admin types is kept in the page, so nothing else may run in it: only the
// inlined script and style (by hash), and requests to this server only.
dashboard_page build_page() {
  dashboard_page p;
  p.html = std::string{dashboard_assets::html()};
  replace_marker(p.html, style_marker, dashboard_assets::css());
  replace_marker(p.html, script_marker, dashboard_assets::js());
  p.csp = "default-src 'none'; script-src 'sha256-" + base64(digest_of(dashboard_assets::js()))
          + "'; style-src 'sha256-" + base64(digest_of(dashboard_assets::css()))
          + "'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'";
  return p;
}

} // namespace

void handle_dashboard(const httplib::Request&, httplib::Response& res, request_context&) {
  static const dashboard_page page = build_page();
  res.status = 200;
  res.set_header("Content-Security-Policy", page.csp);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Cache-Control", "no-cache");
  res.set_content(page.html, "text/html; charset=utf-8");
}

} // namespace ebuse
