#include "probe/http_server.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include <thread>
#include <unordered_map>
#include <vector>

#include "common/host_accounts.h"

namespace cnm::probe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBacklog = 1024;
constexpr std::size_t kReadChunk = 4096;

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

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

std::string head_of(int status, const std::string& type, const std::string& length_or_chunked,
                    bool keep_alive) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  if (!type.empty()) h += "Content-Type: " + type + "\r\n";
  h += length_or_chunked + "\r\n";
  if (status == 405) h += "Allow: GET, HEAD\r\n";
  h += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return h;
}

// Writes all of data before the deadline; false when the peer is gone or too slow.
bool write_all(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0 || (p.revents & (POLLERR | POLLHUP)))
      return false;
  }
  return true;
}

struct Conn {
  Conn(int f, pid_t p, const std::string& token, const RequestLimits& l)
      : fd(f), peer(p), reader(token, l) {}
  int fd;
  pid_t peer;
  RequestReader reader;
  std::string pending;  // bytes read but not parsed yet (a pipelined request)
  Clock::time_point deadline;
  bool head_timer = false;  // the current request's first byte arrived: its deadline runs
  bool busy = false;        // with a worker; not watched by the loop
  bool keep = false;        // set by the worker: the connection may serve another request
  std::uint64_t serial = 0;
};

}  // namespace

struct ApiServer::Impl {
  ApiRoutes routes;
  std::string token;
  ApiLimits limits;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::unordered_map<int, std::unique_ptr<Conn>> conns;  // the loop's only
  std::unordered_map<pid_t, std::size_t> per_peer;
  std::uint64_t next_serial = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Conn*> jobs;   // authorized requests for the workers
  std::vector<Conn*> done;  // answered, back to the loop
  bool stopping = false;
  bool loop_stop = false;
  std::thread loop;
  std::vector<std::thread> workers;

  void watch(Conn& c) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = c.fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void close_conn(int fd) {
    const auto it = conns.find(fd);
    if (it == conns.end()) return;
    if (--per_peer[it->second->peer] == 0) per_peer.erase(it->second->peer);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(it);
  }

  // A refusal from the loop: a small reply sent without waiting, then the connection closes.
  void refuse(Conn& c, int status, const std::string& why) {
    const std::string body = why.empty() ? "" : "{\"error\":\"" + why + "\"}";
    const auto reply = head_of(status, body.empty() ? "" : "application/json",
                               "Content-Length: " + std::to_string(body.size()), false) +
                       body;
    (void)!::send(c.fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    close_conn(c.fd);
  }

  void accept_all() {
    while (true) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: all taken; EMFILE: the next wakeup retries
      ucred cred{};
      socklen_t len = sizeof cred;
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
      if (per_peer[cred.pid] >= limits.max_per_peer) {
        ::close(fd);
        continue;
      }
      if (conns.size() >= limits.max_connections && !evict_one()) {
        ::close(fd);
        continue;
      }
      auto c = std::make_unique<Conn>(fd, cred.pid, token, limits.request);
      c->deadline = Clock::now() + limits.idle_timeout;
      c->serial = next_serial++;
      ++per_peer[cred.pid];
      watch(*c);
      conns.emplace(fd, std::move(c));
    }
  }

  // Makes room for a new connection: the oldest one that never presented the token.
  bool evict_one() {
    Conn* oldest = nullptr;
    for (auto& [fd, c] : conns)
      if (!c->busy && !c->reader.ever_authorized() && (!oldest || c->serial < oldest->serial))
        oldest = c.get();
    if (!oldest) return false;
    close_conn(oldest->fd);
    return true;
  }

  void on_readable(Conn& c) {
    char buf[kReadChunk];
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close_conn(c.fd);
      return;
    }
    if (n < 0) return;
    c.pending.append(buf, static_cast<std::size_t>(n));
    process(c);
  }

  // Parses what the connection sent and hands a complete authorized request to a worker.
  void process(Conn& c) {
    while (!c.busy && !c.pending.empty()) {
      if (!c.head_timer) {
        c.head_timer = true;
        c.deadline = Clock::now() + limits.head_deadline;
      }
      const std::size_t used = c.reader.feed(c.pending);
      c.pending.erase(0, used);
      switch (c.reader.state()) {
        case RequestReader::State::NeedMore:
          if (used == 0) return;
          break;
        case RequestReader::State::Refused:
          refuse(c, c.reader.status(), c.reader.why());
          return;
        case RequestReader::State::Ready: {
          std::lock_guard<std::mutex> lock(mu);
          if (jobs.size() >= limits.max_queued) {
            refuse(c, 503, "too many requests waiting");
            return;
          }
          c.busy = true;
          ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
          jobs.push_back(&c);
          cv.notify_one();
          return;
        }
      }
    }
  }

  void take_back_answered() {
    std::vector<Conn*> back;
    {
      std::lock_guard<std::mutex> lock(mu);
      back.swap(done);
    }
    for (Conn* c : back) {
      c->busy = false;
      if (!c->keep) {
        close_conn(c->fd);
        continue;
      }
      c->reader.next();
      c->head_timer = false;
      c->deadline = Clock::now() + limits.idle_timeout;
      watch(*c);
      process(*c);  // a request pipelined behind the answered one
    }
  }

  void expire() {
    const auto now = Clock::now();
    std::vector<int> late;
    for (auto& [fd, c] : conns)
      if (!c->busy && now >= c->deadline) late.push_back(fd);
    for (const int fd : late) {
      Conn& c = *conns.at(fd);
      if (c.head_timer)
        refuse(c, 408, "the request head did not arrive in time");
      else
        close_conn(fd);  // idle keep-alive
    }
  }

  void run_loop() {
    epoll_event events[64];
    while (true) {
      const int n = ::epoll_wait(epoll_fd, events, 64, 100);
      {
        std::lock_guard<std::mutex> lock(mu);
        if (loop_stop) break;
      }
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listen_fd) {
          accept_all();
        } else if (fd == wake_fd) {
          std::uint64_t v;
          (void)!::read(wake_fd, &v, sizeof v);
        } else if (const auto it = conns.find(fd); it != conns.end() && !it->second->busy) {
          on_readable(*it->second);
        }
      }
      take_back_answered();
      expire();
    }
    // Stop: unblock workers writing to slow peers, let them finish, then close everything.
    for (auto& [fd, c] : conns) ::shutdown(fd, SHUT_RDWR);
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_all();
    for (auto& w : workers) w.join();
    for (auto& [fd, c] : conns) ::close(fd);
    conns.clear();
  }

  void worker() {
    while (true) {
      Conn* c = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stopping || !jobs.empty(); });
        if (stopping) return;
        c = jobs.front();
        jobs.pop_front();
      }
      const Request req = c->reader.request();
      bool ok = false;
      try {
        ok = answer(c->fd, req);
      } catch (const std::exception& e) {
        spdlog::warn("API {} failed: {}", req.path, e.what());
      }
      c->keep = ok && req.keep_alive;
      {
        std::lock_guard<std::mutex> lock(mu);
        done.push_back(c);
      }
      const std::uint64_t one = 1;
      (void)!::write(wake_fd, &one, sizeof one);
    }
  }

  // Answers one authorized request; false when the connection cannot go on.
  bool answer(int fd, const Request& req) {
    const auto deadline = Clock::now() + limits.write_deadline;
    HttpReply r;
    const auto& p = req.path;
    if (p == "/network_tracer/connections") {
      const auto id = query_param(req.query, "client_id");
      if (id.empty() || id.size() > 256) {
        r = {400, R"({"error":"client_id query parameter (1 to 256 characters) is required"})"};
      } else if (req.head) {
        // HEAD must not consume what the client has not read: the GET's head, no call.
        return write_all(
            fd, head_of(200, "application/json", "Transfer-Encoding: chunked", req.keep_alive),
            deadline);
      } else {
        r = routes.connections(id);
      }
    } else if (p == "/health") {
      r = routes.health();
    } else if (p == "/debug/stats") {
      r = routes.debug_stats();
    } else if (p == "/metrics") {
      r = routes.metrics();
    } else if (p == "/network_tracer/dns") {
      r = routes.dns();
    } else {
      r = {404, R"({"error":"no such route"})"};
    }
    if (!r.stream) {
      const auto h = head_of(r.status, r.content_type,
                             "Content-Length: " + std::to_string(r.body.size()), req.keep_alive);
      return write_all(fd, h, deadline) && (req.head || write_all(fd, r.body, deadline));
    }
    if (!write_all(fd,
                   head_of(r.status, r.content_type, "Transfer-Encoding: chunked", req.keep_alive),
                   deadline))
      return false;
    if (req.head) return true;
    std::string piece, frame;
    while (r.stream(piece)) {
      if (piece.empty()) continue;
      char size[20];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      frame.assign(size);
      frame += piece;
      frame += "\r\n";
      piece.clear();
      if (!write_all(fd, frame, deadline)) return false;  // the client went away
    }
    return write_all(fd, "0\r\n\r\n", deadline);
  }
};

ApiServer::ApiServer(const std::string& socket_path, std::string token,
                     const std::string& group_name, ApiRoutes routes, ApiLimits limits)
    : path_(socket_path), impl_(std::make_unique<Impl>()) {
  namespace fs = std::filesystem;
  auto& s = *impl_;
  s.routes = std::move(routes);
  s.token = std::move(token);
  s.limits = limits;
  std::error_code ec;
  if (fs::is_socket(fs::symlink_status(path_, ec))) {
    if (socket_is_live(path_))
      throw std::runtime_error(path_ + ": another process serves this socket");
    fs::remove(path_, ec);
  } else if (fs::exists(fs::symlink_status(path_, ec))) {
    throw std::runtime_error(path_ + ": exists and is not a socket; not replacing it");
  }
  fs::create_directories(fs::path(path_).parent_path(), ec);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) throw std::runtime_error(path_ + ": path too long");
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  s.listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s.listen_fd < 0) throw std::runtime_error(path_ + ": socket: " + std::strerror(errno));
  // Created 0660 from the start (umask), so no moment exists where others could connect.
  const mode_t old_mask = ::umask(0117);
  const int bound = ::bind(s.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old_mask);
  const auto fail = [&](const std::string& what) {
    const std::string msg = path_ + ": " + what + ": " + std::strerror(errno);
    ::close(s.listen_fd);
    throw std::runtime_error(msg);
  };
  if (bound != 0) fail("cannot bind the unix socket");
  if (::listen(s.listen_fd, kBacklog) != 0) fail("listen");
  if (::chmod(path_.c_str(), 0660) != 0) fail("chmod");
  if (const auto gid = find_group(default_layout(), group_name)) {
    if (::chown(path_.c_str(), static_cast<uid_t>(-1), *gid) != 0)
      fail("chown to group " + group_name);
  } else {
    spdlog::info("group {} does not exist; socket {} keeps its group", group_name, path_);
  }
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  s.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.epoll_fd < 0 || s.wake_fd < 0) fail("epoll");
  for (const int fd : {s.listen_fd, s.wake_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  }
  for (std::size_t i = 0; i < s.limits.workers; ++i) s.workers.emplace_back([&s] { s.worker(); });
  s.loop = std::thread([&s] { s.run_loop(); });
  spdlog::info("serving on unix socket {}", path_);
}

ApiServer::~ApiServer() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->loop_stop = true;
  }
  const std::uint64_t one = 1;
  (void)!::write(impl_->wake_fd, &one, sizeof one);
  impl_->loop.join();
  ::close(impl_->listen_fd);
  ::close(impl_->epoll_fd);
  ::close(impl_->wake_fd);
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

}  // namespace cnm::probe
