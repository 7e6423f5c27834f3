// The HTTP API on a unix socket (cpp-httplib): bearer-token check on every request, then one
// handler per route. Routing and auth live here; what the routes return is the daemon's job.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace cnm::probe {

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  // When set, the body is sent chunked instead: each call appends the next piece to its
  // argument, until one returns false (so a large reply is never held whole).
  std::function<bool(std::string&)> stream = nullptr;
};

struct ApiRoutes {
  std::function<HttpReply()> health;
  std::function<HttpReply(const std::string& client_id)> connections;
  std::function<HttpReply()> debug_stats;
  std::function<HttpReply()> metrics;
  std::function<HttpReply()> dns;
};

class ApiServer {
 public:
  // Binds the socket (mode 0660, group `group` when it exists) or throws std::runtime_error.
  // A stale socket file is replaced; a live one (another daemon answers) is an error.
  ApiServer(const std::string& socket_path, std::string token, const std::string& group,
            ApiRoutes routes);
  ~ApiServer();  // stops serving and removes the socket file
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

 private:
  std::string path_;
  std::string token_;
  ApiRoutes routes_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace cnm::probe
