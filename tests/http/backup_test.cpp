// GET /admin/tenants/{name}/backup: who may call it, snapshots under concurrent
// appends, a tenant that is stopping, and closing files for a restore.
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <dirent.h>
#include <sqlite3.h>
#include <unistd.h>

#include "support/http_helpers.hpp"
#include "support/raw_socket.hpp"
#include "support/temp_dir.hpp"

using namespace ebuse;
using namespace ebuse::test;
using namespace std::chrono_literals;

namespace {

registry_options shop_tenants(const temp_dir& dir) {
  return tenants_in(dir, {"shop", "blog"}, {"admin-key"});
}

/// Streams a GET into `file`; the reply's body stays empty.
reply download(httplib::Client& cli, const std::string& path, const std::string& file) {
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  std::string error_body;
  reply r;
  auto res = cli.Get(
    path.c_str(), httplib::Headers{},
    [&](const httplib::Response& head) {
      r.status = head.status;
      r.headers = head.headers;
      return true;
    },
    [&](const char* data, size_t len) {
      if (r.status == 200)
        out.write(data, static_cast<std::streamsize>(len));
      else
        error_body.append(data, len);
      return true;
    });
  r.error = res.error();
  r.body = error_body;
  if (!res)
    r.status = -1;
  return r;
}

struct db_file {
  sqlite3* db = nullptr;
  explicit db_file(const std::string& path) {
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  }
  ~db_file() {
    sqlite3_close(db);
  }
  std::string text(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      return "prepare failed: " + std::string{sqlite3_errmsg(db)};
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }
};

// Open descriptors of this process on `path` (or its -wal and -shm).
int open_descriptors(const std::string& path) {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (auto* e = ::readdir(d)) {
    char target[4096];
    auto link = "/proc/self/fd/" + std::string{e->d_name};
    auto len = ::readlink(link.c_str(), target, sizeof(target) - 1);
    if (len > 0 && std::string{target, static_cast<size_t>(len)}.rfind(path, 0) == 0)
      ++n;
  }
  ::closedir(d);
  return n;
}

} // namespace

TEST_CASE("a backup needs an admin key and a known tenant", "[http][backup]") {
  temp_dir dir;
  test_server srv{shop_tenants(dir), quiet_config()};
  check_error(get(*client_for(srv, ""), "/admin/tenants/shop/backup"), 401, "unauthorized");
  check_error(get(*client_for(srv, "wrong"), "/admin/tenants/shop/backup"), 401,
              "unauthorized");
  check_error(get(*client_for(srv, "key-shop"), "/admin/tenants/shop/backup"), 403,
              "forbidden");
  auto admin = client_for(srv, "admin-key");
  check_error(get(*admin, "/admin/tenants/nope/backup"), 404, "not_found");
  check_error(get(*admin, "/admin/tenants/..%2Fshop/backup"), 404, "not_found");
  check_error(get(*admin, "/admin/tenants/shop/restore"), 404, "not_found");
  auto post_reply = post(*admin, "/admin/tenants/shop/backup", "");
  check_error(post_reply, 405, "method_not_allowed");
  CHECK(post_reply.header("Allow") == "GET");
  // The admin key still opens no tenant's data.
  check_error(get(*admin, "/events?from=0"), 401, "unauthorized");

  // A backup already running for this tenant: a second one waits its turn.
  auto shop = srv.registry()->find_by_name("shop");
  REQUIRE(shop);
  REQUIRE((*shop)->try_begin_backup());
  check_error(get(*admin, "/admin/tenants/shop/backup"), 409, "backup_in_progress");
  (*shop)->end_backup();
  auto ok = download(*admin, "/admin/tenants/shop/backup", dir.file("empty.db"));
  CHECK(ok.status == 200);
  CHECK(ok.header("Content-Type") == "application/vnd.sqlite3");
  CHECK(ok.header("Content-Disposition") == "attachment; filename=\"shop.db\"");
  CHECK(ok.header("X-Backup-Position") == "0");
  CHECK(db_file{dir.file("empty.db")}.text("PRAGMA integrity_check") == "ok");
}

TEST_CASE("a backup taken under concurrent appends holds a dense prefix of them",
          "[http][backup]") {
  temp_dir dir;
  test_server srv{shop_tenants(dir), quiet_config()};
  auto shop = client_for(srv, "key-shop");
  seed(*shop, 30000);

  // Two writers append batches and note the highest position acknowledged.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{30000};
  std::atomic<int> failures{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w)
    writers.emplace_back([&] {
      auto cli = client_for(srv, "key-shop");
      auto until = std::chrono::steady_clock::now() + 60s;
      for (int i = 0; i < 100000 && !stop && std::chrono::steady_clock::now() < until; ++i) {
        auto r = post(*cli, "/events/batch", make_batch(1, 20));
        auto j = json::parse(r.body, nullptr, false);
        if (r.status != 200 || j.is_discarded()) {
          ++failures;
          continue;
        }
        auto last = j["last_position"].get<int64_t>();
        for (auto cur = acked.load(); cur < last && !acked.compare_exchange_weak(cur, last);) {
        }
      }
    });

  auto admin = client_for(srv, "admin-key");
  auto file = dir.file("backup.db");
  // Retried until appends were acknowledged while the backup ran (a few tries at most).
  bool overlapped = false;
  int64_t acked_before = 0;
  reply r;
  for (int attempt = 0; attempt < 5 && !overlapped; ++attempt) {
    acked_before = acked.load();
    r = download(*admin, "/admin/tenants/shop/backup", file);
    REQUIRE(r.status == 200);
    overlapped = acked.load() > acked_before;
  }
  stop = true;
  for (auto& t : writers)
    t.join();
  CHECK(failures == 0);
  CHECK(overlapped);

  db_file backup{file};
  CHECK(backup.text("PRAGMA integrity_check") == "ok");
  auto last = std::stoll(r.header("X-Backup-Position"));
  // Every event acknowledged before the backup began is in it; positions are dense.
  CHECK(last >= acked_before);
  CHECK(backup.text("SELECT count(*) FROM events") == std::to_string(last));
  CHECK(backup.text("SELECT min(position) || ',' || max(position) FROM events")
        == "1," + std::to_string(last));
  // And they are the tenant's events, byte for byte.
  db_file live{dir.file("shop.db")};
  const std::string digest = "SELECT sum(length(data)) || ',' || sum(position * length(type)) "
                             "|| ',' || group_concat(DISTINCT timestamp) FROM events "
                             "WHERE position <= ";
  CHECK(backup.text(digest + std::to_string(last))
        == live.text(digest + std::to_string(last)));
  // The temporary copy is gone from the data directory.
  for (auto& e : std::filesystem::directory_iterator(dir.path()))
    CHECK(e.path().filename().string().find(".backup-") == std::string::npos);
}

TEST_CASE("a client that hangs up during a backup leaves no copy behind", "[http][backup]") {
  temp_dir dir;
  test_server srv{shop_tenants(dir), quiet_config()};
  seed(*client_for(srv, "key-shop"), 100000);
  auto no_copies = [&] {
    for (auto& e : std::filesystem::directory_iterator(dir.path()))
      if (e.path().filename().string().find(".backup-") != std::string::npos)
        return false;
    return true;
  };
  for (int i = 0; i < 3; ++i) {
    // Hangs up while the copy or its download is under way, whichever it reaches.
    raw_socket s{srv.port()};
    REQUIRE(s.send("GET /admin/tenants/shop/backup HTTP/1.1\r\nHost: x\r\n"
                   "X-API-Key: admin-key\r\n\r\n"));
    s.close(); // the request arrives whole, then the end of the connection
  }
  // The backup slot is free again and no temporary file is left.
  auto admin = client_for(srv, "admin-key");
  CHECK(eventually([&] {
    return download(*admin, "/admin/tenants/shop/backup", dir.file("ok.db")).status == 200;
  }));
  CHECK(eventually(no_copies));
  CHECK(db_file{dir.file("ok.db")}.text("SELECT count(*) FROM events") == "100000");
}

TEST_CASE("a Range header is ignored: a backup and a JSON answer are sent whole",
          "[http][backup]") {
  temp_dir dir;
  test_server srv{shop_tenants(dir), quiet_config()};
  auto shop = client_for(srv, "key-shop");
  seed(*shop, 1000);
  // A copy is made for each request, so a resumed download would splice two copies.
  raw_socket s{srv.port()};
  REQUIRE(s.send("GET /admin/tenants/shop/backup HTTP/1.1\r\nHost: x\r\n"
                 "X-API-Key: admin-key\r\nRange: bytes=0-0\r\n\r\n"
                 "GET /position HTTP/1.1\r\nHost: x\r\nX-API-Key: key-shop\r\n\r\n"));
  std::string raw;
  REQUIRE(s.read_responses(30s, raw, 2));
  auto head_end = raw.find("\r\n\r\n");
  auto head = raw.substr(0, head_end);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Content-Range") == std::string::npos);
  auto at = head.find("Content-Length: ");
  REQUIRE(at != std::string::npos);
  auto length = std::stoul(head.substr(at + 16));
  CHECK(length > 1000u * 20);
  auto body_end = head_end + 4 + length;
  REQUIRE(raw.size() > body_end);
  {
    std::ofstream out{dir.file("whole.db"), std::ios::binary};
    out.write(raw.data() + head_end + 4, static_cast<std::streamsize>(length));
  }
  CHECK(db_file{dir.file("whole.db")}.text("SELECT count(*) FROM events") == "1000");
  // The request behind it gets its own whole answer on the same connection.
  auto next = raw.substr(body_end);
  CHECK(next.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(next.find("{\"position\":1000}") != std::string::npos);
  // Ordinary answers too: the whole body with 200, valid or unsatisfiable ranges alike.
  for (const char* range : {"bytes=0-3", "bytes=100000-200000", "bytes=-5"}) {
    INFO(range);
    auto r = get(*shop, "/events?from=999", {{"Range", range}});
    CHECK(r.status == 200);
    CHECK_FALSE(r.has_header("Content-Range"));
    CHECK(json::parse(r.body).size() == 2);
  }
}

TEST_CASE("a removed tenant is stopping (503) until its files are closed, then unknown",
          "[http][backup][tenants]") {
  temp_dir dir;
  auto ropts = shop_tenants(dir);
  std::mutex mtx;
  std::set<std::string> closed;
  ropts.on_event = [&](std::string_view event, std::string_view tenant, std::string_view) {
    std::lock_guard<std::mutex> guard{mtx};
    if (event == "tenant closed")
      closed.emplace(tenant);
  };
  ropts.idle_timeout = 100ms;
  test_server srv{ropts, quiet_config()};
  auto blog = client_for(srv, "key-blog");
  seed(*blog, 100);
  auto admin = client_for(srv, "admin-key");

  // A request still holds the tenant when the reload removes it.
  auto held = srv.registry()->find_by_name("blog");
  REQUIRE(held);
  REQUIRE(*held);
  srv.registry()->reload({shop_tenants(dir).tenants[0]}, {digest_of("admin-key")});
  REQUIRE(eventually([&] { return srv.registry()->names().size() == 1; }));
  auto stopping = get(*admin, "/admin/tenants/blog/backup");
  check_error(stopping, 503, "tenant_stopping");
  CHECK(stopping.header("Retry-After") == "1");

  // Once nothing uses it, it stops; once every connection to its file is closed (the
  // writer's, the readers' and the checkpointer's), it is reported closed.
  held->reset();
  REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> guard{mtx};
    return closed.count("blog") == 1;
  }));
  CHECK(open_descriptors(dir.file("blog.db")) == 0);
  check_error(get(*admin, "/admin/tenants/blog/backup"), 404, "not_found");
  CHECK(get(*client_for(srv, "key-shop"), "/position").status == 200);
}
