#include "probe/http_server.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/host_accounts.h"

namespace cnm::probe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBacklog = 1024;
// A connections call past max_streams: its GET's body, and the length its HEAD announces.
constexpr std::string_view kBusyBody = R"({"error":"too many replies in progress"})";
constexpr std::size_t kReadChunk = 4096;
constexpr int kAcceptBatch = 64;
// A worker producing a reply for a fast client lets others have a turn after this much.
constexpr std::size_t kSliceBytes = 1 << 20;

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

// Who may touch a connection now. The loop reads requests (Loop) and flushes a reply its
// client is slow to read (Flush, watched for EPOLLOUT); a worker produces and sends a reply
// (Worker), never waiting on the client: when its socket is full the connection goes back to
// the loop, and a worker resumes the reply once the loop has flushed what was buffered.
enum class Owner { Loop, Worker, Flush };

struct Conn {
  Conn(int f, const ucred& cred, const std::string& token, const RequestLimits& l)
      : fd(f), peer(cred.pid), uid(cred.uid), reader(token, l) {}
  int fd;
  pid_t peer;
  uid_t uid;
  RequestReader reader;
  std::string pending;         // bytes read but not parsed yet (a pipelined request)
  Clock::time_point deadline;  // Loop: the head's or idle deadline; else the reply's
  bool head_timer = false;     // the current request's first byte arrived: its deadline runs
  bool heard = false;          // any byte ever arrived (a silent connection is evicted first)
  bool unauth = true;          // never authorized: an eviction candidate
  Owner owner = Owner::Loop;
  // The reply in progress (Worker, Flush).
  bool replying = false;
  bool keep = false;  // the connection may serve another request after this reply
  std::string out;    // reply bytes not sent yet, from `sent` on
  std::size_t sent = 0;
  std::function<bool(std::string&)> stream;  // the rest of a streamed reply
  std::uint64_t serial = 0;
  Clock::time_point accepted;
};

enum class Sent { All, Again, Error };
enum class Step { Done, Park, Yield, Close };

// Sends what the connection has buffered without waiting.
Sent flush(Conn& c) {
  while (c.sent < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.out.erase(0, c.sent);
      c.sent = 0;
      return Sent::Again;
    }
    return Sent::Error;
  }
  c.out.clear();
  c.sent = 0;
  return Sent::All;
}

// Bytes the client sent that were not read yet (its request, token included, may be there).
int bytes_waiting(int fd) {
  int n = 0;
  return ::ioctl(fd, FIONREAD, &n) == 0 ? n : 0;
}

}  // namespace

struct ApiServer::Impl {
  ApiRoutes routes;
  std::string token;
  ApiLimits limits;
  int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
  std::unordered_map<int, std::unique_ptr<Conn>> conns;  // the loop's only
  std::unordered_map<pid_t, std::size_t> per_peer;
  // Connections that never presented the token, in eviction order (silent ones first, then
  // oldest first): all, and per local user. Finding a victim is O(log n), not a walk over the
  // table, so accepting under a flood stays cheap.
  using Order = std::map<std::pair<bool, std::uint64_t>, Conn*>;
  Order candidates;
  std::unordered_map<uid_t, Order> candidates_of;
  std::uint64_t next_serial = 0;
  std::atomic<std::size_t> streams{0};  // streamed replies in progress
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Conn*> jobs;                    // requests and replies to resume, for workers
  std::vector<std::pair<Conn*, Step>> done;  // back to the loop
  bool stopping = false;
  bool loop_stop = false;
  std::thread loop;
  std::vector<std::thread> workers;

  // Watches the connection for `events` only (none: not at all).
  void watch(Conn& c, std::uint32_t events) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
    if (events == 0) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c.fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void add_candidate(Conn& c) {
    candidates.emplace(std::pair(c.heard, c.serial), &c);
    candidates_of[c.uid].emplace(std::pair(c.heard, c.serial), &c);
  }

  void remove_candidate(Conn& c) {
    candidates.erase({c.heard, c.serial});
    const auto it = candidates_of.find(c.uid);
    it->second.erase({c.heard, c.serial});
    if (it->second.empty()) candidates_of.erase(it);
  }

  void uncount_unauth(Conn& c) {
    if (!c.unauth) return;
    remove_candidate(c);
    c.unauth = false;
  }

  void heard_from(Conn& c) {
    if (c.heard) return;
    if (c.unauth) remove_candidate(c);
    c.heard = true;
    if (c.unauth) add_candidate(c);
  }

  std::size_t unauth_of(uid_t uid) const {
    const auto it = candidates_of.find(uid);
    return it == candidates_of.end() ? 0 : it->second.size();
  }

  void end_stream(Conn& c) {
    if (!c.stream) return;
    c.stream = nullptr;  // the reply's snapshot goes now
    --streams;
  }

  void close_conn(int fd) {
    const auto it = conns.find(fd);
    if (it == conns.end()) return;
    Conn& c = *it->second;
    if (--per_peer[c.peer] == 0) per_peer.erase(c.peer);
    uncount_unauth(c);
    end_stream(c);
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
    // A bounded batch: the loop reads the connections it accepted before it takes more.
    for (int i = 0; i < kAcceptBatch; ++i) {
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN: all taken; EMFILE: the next wakeup retries
      ucred cred{};
      socklen_t len = sizeof cred;
      ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
      if (const auto it = per_peer.find(cred.pid);
          it != per_peer.end() && it->second >= limits.max_per_peer) {
        ::close(fd);
        continue;
      }
      // One local user's unauthenticated connections make room among themselves, so a user
      // who opens many (from many processes) cannot push out another user's.
      if (!make_room(&cred.uid,
                     [&] { return unauth_of(cred.uid) >= limits.max_unauthenticated_per_uid; }) ||
          !make_room(nullptr, [&] { return conns.size() >= limits.max_connections; })) {
        ::close(fd);
        continue;
      }
      auto c = std::make_unique<Conn>(fd, cred, token, limits.request);
      c->accepted = Clock::now();
      c->deadline = c->accepted + limits.idle_timeout;
      c->serial = next_serial++;
      ++per_peer[cred.pid];
      add_candidate(*c);
      watch(*c, EPOLLIN | EPOLLRDHUP);
      conns.emplace(fd, std::move(c));
    }
  }

  // The next to evict of `order` (not empty): the oldest silent connection that had its grace,
  // else the oldest that sent part of a head, else the oldest silent one.
  Conn* victim_of(const Order& order) const {
    Conn* oldest = order.begin()->second;  // silent ones sort first
    if (oldest->heard || Clock::now() - oldest->accepted >= limits.silent_grace) return oldest;
    const auto heard = order.lower_bound({true, 0});
    return heard != order.end() ? heard->second : oldest;
  }

  // Evicts connections that never presented the token (of `uid` only, when given) while
  // full() holds, in victim_of's order. A candidate with bytes waiting is read first, as if
  // its turn in the loop had come: its request, token included, may be there (then it is no
  // candidate any more). False when nothing can be evicted.
  template <class Full>
  bool make_room(const uid_t* uid, Full full) {
    while (full()) {
      const Order* order = &candidates;
      if (uid) {
        const auto it = candidates_of.find(*uid);
        if (it == candidates_of.end()) return false;
        order = &it->second;
      }
      if (order->empty()) return false;
      Conn* victim = victim_of(*order);
      if (bytes_waiting(victim->fd) > 0)
        on_readable(*victim);  // progress: each read takes bytes, the head limit ends it
      else
        close_conn(victim->fd);
    }
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
    heard_from(c);
    c.pending.append(buf, static_cast<std::size_t>(n));
    process(c);
  }

  // Parses what the connection sent and hands a complete authorized request to a worker.
  void process(Conn& c) {
    while (c.owner == Owner::Loop && !c.pending.empty()) {
      if (!c.head_timer) {
        c.head_timer = true;
        c.deadline = Clock::now() + limits.head_deadline;
      }
      const std::size_t used = c.reader.feed(c.pending);
      c.pending.erase(0, used);
      if (c.reader.ever_authorized()) uncount_unauth(c);
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
          c.owner = Owner::Worker;
          c.replying = false;
          c.deadline = Clock::now() + limits.write_deadline;
          watch(c, 0);
          jobs.push_back(&c);
          cv.notify_one();
          return;
        }
      }
    }
  }

  // The reply was sent whole: the connection waits for its next request, or closes.
  void finish(Conn& c) {
    c.owner = Owner::Loop;
    c.replying = false;
    if (!c.keep) {
      close_conn(c.fd);
      return;
    }
    c.reader.next();
    c.head_timer = false;
    c.deadline = Clock::now() + limits.idle_timeout;
    watch(c, EPOLLIN | EPOLLRDHUP);
    process(c);  // a request pipelined behind the answered one
  }

  // A slow client read some of its reply.
  void on_writable(Conn& c) {
    switch (flush(c)) {
      case Sent::Error:
        close_conn(c.fd);
        return;
      case Sent::Again:
        return;
      case Sent::All:
        break;
    }
    if (!c.stream) {
      finish(c);
      return;
    }
    // The rest of the stream: back to a worker (already admitted: no queue limit).
    c.owner = Owner::Worker;
    watch(c, 0);
    std::lock_guard<std::mutex> lock(mu);
    jobs.push_back(&c);
    cv.notify_one();
  }

  void take_back() {
    std::vector<std::pair<Conn*, Step>> back;
    {
      std::lock_guard<std::mutex> lock(mu);
      back.swap(done);
    }
    for (const auto& [c, step] : back) {
      switch (step) {
        case Step::Close:
        case Step::Yield:  // not sent back by workers
          close_conn(c->fd);
          break;
        case Step::Park:
          c->owner = Owner::Flush;
          watch(*c, EPOLLOUT);  // EPOLLERR and EPOLLHUP are always reported
          break;
        case Step::Done:
          finish(*c);
          break;
      }
    }
  }

  void expire() {
    const auto now = Clock::now();
    std::vector<int> late;
    for (auto& [fd, c] : conns)
      if (c->owner != Owner::Worker && now >= c->deadline) late.push_back(fd);
    for (const int fd : late) {
      Conn& c = *conns.at(fd);
      if (c.owner == Owner::Loop && c.head_timer)
        refuse(c, 408, "the request head did not arrive in time");
      else
        close_conn(fd);  // idle keep-alive, or a reply not read in time
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
        } else if (const auto it = conns.find(fd); it != conns.end()) {
          if (it->second->owner == Owner::Loop)
            on_readable(*it->second);
          else if (it->second->owner == Owner::Flush)
            on_writable(*it->second);
        }
      }
      take_back();
      expire();
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      stopping = true;
    }
    cv.notify_all();
    for (auto& w : workers) w.join();  // none waits on a client: each returns promptly
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
      Step step = Step::Close;
      try {
        step = work(*c);
      } catch (const std::exception& e) {
        spdlog::warn("API {} failed: {}", c->reader.request().path, e.what());
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        if (step == Step::Yield) {  // behind the others waiting, e.g. a /health
          jobs.push_back(c);
          cv.notify_one();
          continue;
        }
        done.emplace_back(c, step);
      }
      const std::uint64_t one = 1;
      (void)!::write(wake_fd, &one, sizeof one);
    }
  }

  // Produces the reply (or its next part) and sends what the socket takes, without waiting:
  // Park when the client's socket is full (at most reply_buffer bytes and one piece stay
  // buffered), Yield after kSliceBytes so other requests get a worker.
  Step work(Conn& c) {
    if (Clock::now() >= c.deadline) return Step::Close;
    if (!c.replying) {
      c.replying = true;
      start(c, c.reader.request());
    }
    std::size_t made = 0;
    std::string piece;
    while (true) {
      while (c.stream && c.out.size() - c.sent < limits.reply_buffer) {
        if (!c.stream(piece)) {
          end_stream(c);
          c.out += "0\r\n\r\n";
          break;
        }
        if (piece.empty()) continue;
        char size[20];
        std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
        c.out += size;
        c.out += piece;
        c.out += "\r\n";
        made += piece.size();
        piece.clear();
      }
      switch (flush(c)) {
        case Sent::Error:
          return Step::Close;  // the client went away
        case Sent::Again:
          return Step::Park;
        case Sent::All:
          break;
      }
      if (!c.stream) return Step::Done;
      if (made >= kSliceBytes) return Step::Yield;
    }
  }

  // Routes one authorized request: the head (and a whole body) into c.out, a stream into
  // c.stream.
  void start(Conn& c, const Request& req) {
    c.keep = req.keep_alive;
    HttpReply r;
    bool counted = false;  // holds one of the max_streams places
    const auto& p = req.path;
    if (p == "/network_tracer/connections") {
      const auto id = query_param(req.query, "client_id");
      if (id.empty() || id.size() > 256) {
        r = {400, R"({"error":"client_id query parameter (1 to 256 characters) is required"})"};
      } else if (req.head) {
        // HEAD must not consume what the client has not read: the GET's head, no call; the
        // refusal's head where the GET would be refused.
        if (streams.load() >= limits.max_streams) {  // as the GET would be, now
          c.out = head_of(503, "application/json",
                          "Content-Length: " + std::to_string(kBusyBody.size()), req.keep_alive);
          return;
        }
        if (const auto no = routes.refuses ? routes.refuses(id) : std::nullopt) {
          c.out = head_of(no->status, no->content_type,
                          "Content-Length: " + std::to_string(no->body.size()), req.keep_alive);
          return;
        }
        c.out = head_of(200, "application/json", "Transfer-Encoding: chunked", req.keep_alive);
        return;
      } else if (streams.fetch_add(1) >= limits.max_streams) {
        --streams;
        r = {503, std::string(kBusyBody)};
      } else {
        counted = true;
        try {
          r = routes.connections(id);
        } catch (...) {
          --streams;
          throw;
        }
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
    if (r.stream && !req.head) {
      if (!counted) ++streams;
      c.out = head_of(r.status, r.content_type, "Transfer-Encoding: chunked", req.keep_alive);
      c.stream = std::move(r.stream);
      return;
    }
    if (counted) --streams;
    if (r.stream)  // HEAD of a streamed reply: its head only
      c.out = head_of(r.status, r.content_type, "Transfer-Encoding: chunked", req.keep_alive);
    else
      c.out = head_of(r.status, r.content_type, "Content-Length: " + std::to_string(r.body.size()),
                      req.keep_alive);
    if (!req.head && !r.stream) c.out += r.body;
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
