#include "probe/http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "common/host_accounts.h"
#include "probe/auth_token.h"

namespace cnm::probe {
namespace {

// Enough workers that 50 keep-alive clients are served at once; requests are tiny.
constexpr std::size_t kWorkers = 64;
constexpr std::size_t kMaxBody = 4096;  // no route takes a body
constexpr int kBacklog = 1024;

bool socket_is_live(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const bool live = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return live;
}

void reply(httplib::Response& res, const HttpReply& r) {
  res.status = r.status;
  if (!r.stream) {
    res.set_content(r.body, r.content_type.c_str());
    return;
  }
  res.set_chunked_content_provider(
      r.content_type,
      [stream = r.stream, piece = std::string()](std::size_t, httplib::DataSink& sink) mutable {
        piece.clear();
        if (!stream(piece)) {
          sink.done();
          return true;
        }
        return sink.write(piece.data(), piece.size());  // false: the client went away
      });
}

}  // namespace

ApiServer::ApiServer(const std::string& socket_path, std::string token,
                     const std::string& group_name, ApiRoutes routes)
    : path_(socket_path),
      token_(std::move(token)),
      routes_(std::move(routes)),
      server_(std::make_unique<httplib::Server>()) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_socket(fs::symlink_status(path_, ec))) {
    if (socket_is_live(path_))
      throw std::runtime_error(path_ + ": another process serves this socket");
    fs::remove(path_, ec);
  } else if (fs::exists(fs::symlink_status(path_, ec))) {
    throw std::runtime_error(path_ + ": exists and is not a socket; not replacing it");
  }
  fs::create_directories(fs::path(path_).parent_path(), ec);

  auto& s = *server_;
  s.set_address_family(AF_UNIX);
  s.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  s.set_payload_max_length(kMaxBody);
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_timeout(5);
  // Authentication before routing: without a valid token, 401 and nothing else.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (bearer_matches(req.get_header_value("Authorization"), token_))
      return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    return httplib::Server::HandlerResponse::Handled;
  });
  s.Get("/health",
        [this](const httplib::Request&, httplib::Response& res) { reply(res, routes_.health()); });
  s.Get("/debug/stats", [this](const httplib::Request&, httplib::Response& res) {
    reply(res, routes_.debug_stats());
  });
  s.Get("/metrics",
        [this](const httplib::Request&, httplib::Response& res) { reply(res, routes_.metrics()); });
  s.Get("/network_tracer/dns",
        [this](const httplib::Request&, httplib::Response& res) { reply(res, routes_.dns()); });
  s.Get("/network_tracer/connections", [this](const httplib::Request& req, httplib::Response& res) {
    const auto id = req.get_param_value("client_id");
    if (id.empty() || id.size() > 256) {
      reply(res,
            {400, R"({"error":"client_id query parameter (1 to 256 characters) is required"})"});
      return;
    }
    reply(res, routes_.connections(id));
  });

  // Created 0660 from the start (umask), so no moment exists where others could connect.
  // cpp-httplib 0.11 listens with a backlog of 5, which refuses bursts of clients on a unix
  // socket (EAGAIN); keep the listening fd and widen the backlog once bound.
  int listen_fd = -1;
  s.set_socket_options([&listen_fd](socket_t fd) { listen_fd = fd; });
  const mode_t old_mask = ::umask(0117);
  const bool bound = s.bind_to_port(path_.c_str(), 80);
  ::umask(old_mask);
  if (!bound) throw std::runtime_error(path_ + ": cannot bind the unix socket");
  if (listen_fd < 0 || ::listen(listen_fd, kBacklog) != 0)
    throw std::runtime_error(path_ + ": cannot widen the listen backlog");
  if (::chmod(path_.c_str(), 0660) != 0)
    throw std::runtime_error(path_ + ": chmod: " + std::strerror(errno));
  if (const auto gid = find_group(default_layout(), group_name)) {
    if (::chown(path_.c_str(), static_cast<uid_t>(-1), *gid) != 0)
      throw std::runtime_error(path_ + ": chown to group " + group_name + ": " +
                               std::strerror(errno));
  } else {
    spdlog::info("group {} does not exist; socket {} keeps its group", group_name, path_);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  spdlog::info("serving on unix socket {}", path_);
}

ApiServer::~ApiServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace cnm::probe
