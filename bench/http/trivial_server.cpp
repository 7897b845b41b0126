// The HTTP ceiling: cpp-httplib with ebuse's settings, answering without any work.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <httplib.h>

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 0;
  httplib::Server svr;
  svr.new_task_queue = [] { return new httplib::ThreadPool(128); };
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(10000);
  svr.Post("/events", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content("{\"position\":1,\"type\":\"t\",\"data\":" + std::to_string(req.body.size())
                      + ",\"timestamp\":\"2024-01-01T00:00:00Z\"}\n",
                    "application/json");
  });
  svr.Get("/position", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"position\":1}\n", "application/json");
  });
  if (port == 0)
    port = svr.bind_to_any_port("127.0.0.1");
  else if (!svr.bind_to_port("127.0.0.1", port))
    return 1;
  std::printf("port %d\n", port);
  std::fflush(stdout);
  return svr.listen_after_bind() ? 0 : 1;
}
