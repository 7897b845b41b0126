// The dashboard's files, embedded at build time (cmake/embed_dashboard.cmake).
#pragma once

#include <string_view>

namespace ebuse::dashboard_assets {

/// src/http/dashboard/index.html: the page, with markers where the style and the
/// script go.
std::string_view html();

/// src/http/dashboard/style.css.
std::string_view css();

/// src/http/dashboard/app.js.
std::string_view js();

} // namespace ebuse::dashboard_assets
