// The dashboard in a real headless Chromium against a real server taking appends.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/cdp_browser.hpp"
#include "support/http_helpers.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

registry_options dashboard_tenants(const temp_dir& dir) {
  return tenants_in(dir, {"alpha", "beta"}, {"admin-key"});
}

/// Appends to both tenants (and saves a subscription position) until stopped, for at
/// most two minutes; counts what failed for the test thread to check.
class traffic {
public:
  explicit traffic(const test_server& srv) {
    thread_ = std::thread{[this, &srv] {
      auto alpha = client_for(srv, "key-alpha");
      auto beta = client_for(srv, "key-beta");
      auto until = std::chrono::steady_clock::now() + std::chrono::minutes(2);
      for (int i = 1; i <= 100000 && !stop_ && std::chrono::steady_clock::now() < until; ++i) {
        bool ok = post(*alpha, "/events/batch", make_batch(i * 5, 5)).status == 200
                  && post(*beta, "/events", event_body("tick", std::to_string(i))).status == 200;
        if (i % 10 == 0)
          ok = ok && post(*alpha, "/subscriptions/billing/position",
                          "{\"position\":" + std::to_string(i) + "}")
                         .status == 204;
        failures_ += ok ? 0 : 1;
        sent_ += 1;
      }
    }};
  }

  ~traffic() {
    finish();
  }

  void finish() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  int failures() const {
    return failures_;
  }

  int sent() const {
    return sent_;
  }

private:
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

// The head shown in the row of `tenant` (JS expression, a number).
std::string head_of(const std::string& tenant) {
  return "Number(document.querySelector('#tenants tr[data-tenant=\"" + tenant
         + "\"] td.head')?.dataset.value ?? -1)";
}

} // namespace

TEST_CASE("the dashboard shows every tenant's live figures in Chromium", "[browser][dashboard]") {
  temp_dir dir;
  temp_dir profile;
  test_server srv{dashboard_tenants(dir), quiet_config()};
  traffic load{srv};
  auto url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/dashboard";

  cdp_browser browser{EBUSE_CHROMIUM, profile.path().string(), 1440, 1000};
  INFO("browser log: " << browser.log_tail());
  browser.navigate(url);
  REQUIRE(browser.wait_for("!document.getElementById('login').hidden", seconds(10)));
  CHECK(browser.evaluate("document.activeElement.id") == "key");

  // A tenant's key is refused: the form says why and nothing is kept.
  browser.type("key-alpha");
  browser.click("#connect");
  REQUIRE(browser.wait_for(
    "document.getElementById('login-error').textContent.includes('admin key')", seconds(10)));
  CHECK(browser.evaluate("sessionStorage.length") == 0);

  // The admin key, typed and submitted as a person would.
  browser.evaluate("document.getElementById('key').focus()");
  browser.type("admin-key");
  browser.click("#connect");
  REQUIRE(browser.wait_for(head_of("alpha") + " > 0 && " + head_of("beta") + " > 0", seconds(15)));
  auto alpha_before = browser.evaluate(head_of("alpha")).get<int64_t>();
  auto beta_before = browser.evaluate(head_of("beta")).get<int64_t>();
  // Live: the counts go on changing while the traffic runs.
  CHECK(browser.wait_for(head_of("alpha") + " > " + std::to_string(alpha_before) + " && "
                           + head_of("beta") + " > " + std::to_string(beta_before),
                         seconds(15)));
  CHECK(browser.wait_for("Number(document.querySelector('#tenants tr[data-tenant=\"alpha\"] "
                         "td.events-rate')?.dataset.value) > 0",
                         seconds(15)));
  CHECK(browser.wait_for("document.getElementById('status').dataset.state === 'live'",
                         seconds(5)));
  CHECK(browser.evaluate("document.querySelectorAll('#tenants tbody tr').length") == 2);
  CHECK(browser.evaluate("document.getElementById('t-tenants').textContent") == "2 / 2");
  // Subscriptions with their lag, and the actors of both tenants.
  CHECK(browser.wait_for("[...document.querySelectorAll('#subs tbody td')].some((td) => "
                         "td.textContent === 'billing')",
                         seconds(10)));
  CHECK(browser.evaluate("document.querySelectorAll('#actors tbody tr').length").get<int>() >= 6);
  // Charts drew lines, once there were two snapshots to compute rates from.
  CHECK(browser.wait_for("document.querySelectorAll('#c-events path.series').length === 2",
                         seconds(10)));
  // The key lives in this tab's session storage only, never in the URL.
  CHECK(browser.evaluate("sessionStorage.getItem('ebuse.adminKey')") == "admin-key");
  CHECK(browser.evaluate("localStorage.length") == 0);
  CHECK(browser.evaluate("location.href") == url);

  // A few seconds of history in the charts before the picture is taken.
  CHECK(browser.wait_for("Number(document.body.dataset.snapshots) >= 8", seconds(20)));
  auto png = browser.screenshot();
  std::filesystem::create_directories(EBUSE_ARTIFACT_DIR);
  std::ofstream{std::string{EBUSE_ARTIFACT_DIR} + "/dashboard.png", std::ios::binary} << png;
  CHECK(png.substr(0, 8) == std::string{"\x89PNG\r\n\x1a\n", 8});
  CHECK(png.size() > 20000);

  // No script error and no policy violation (the page runs under a strict CSP).
  for (const auto& e : browser.errors())
    FAIL_CHECK(e);

  // Forgetting the key ends the stream and clears the storage.
  browser.click("#forget");
  CHECK(browser.wait_for("!document.getElementById('login').hidden", seconds(5)));
  CHECK(browser.evaluate("sessionStorage.length") == 0);

  load.finish();
  CHECK(load.failures() == 0);
  CHECK(load.sent() > 0);
}
