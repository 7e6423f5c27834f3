// What the API server's tests share: an ApiServer in-process on a scratch socket with fake
// routes (FakeDaemon, Served), a token holder's GET, and the checks and children the hostile
// clients need. In-process, no BPF: tests/probe/api_server_test.cpp (any user) and
// api_server_users_test.cpp (root: a second local user).
#pragma once

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "probe/http_server.h"
#include "tests/probe/unix_client.h"
#include "tests/support/test_support.h"

namespace cnm::probe::test_api {

using namespace std::chrono_literals;
using test::connect_to;
using test::read_to_close;
using test::send_all;

inline const std::string kToken(64, 'k');
inline constexpr std::size_t kPiece = 16 * 1024;

inline std::string request(const std::string& path, bool close) {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kToken + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

// One GET with Connection: close, from a fresh connection; the reply's status, 0 when none
// came within the timeout.
inline int get_status(const std::string& sock, const std::string& path,
                      std::chrono::milliseconds timeout = 5000ms) {
  const int fd = connect_to(sock);
  if (fd < 0) return 0;
  int status = 0;
  if (send_all(fd, request(path, true))) {
    const auto reply = read_to_close(fd, timeout);
    if (reply.rfind("HTTP/1.1 ", 0) == 0 && reply.size() >= 12)
      status = std::stoi(reply.substr(9, 3));
  }
  ::close(fd);
  return status;
}

// Routes with a connections reply of `pieces` pieces of kPiece bytes each, counting what was
// produced and how many replies are alive.
struct FakeDaemon {
  std::size_t pieces = 512;
  std::atomic<std::size_t> started{0}, produced{0}, alive{0};

  ApiRoutes routes() {
    ApiRoutes r;
    r.health = [] { return HttpReply{200, R"({"status":"ok"})"}; };
    r.connections = [this](const std::string&) {
      ++started;
      ++alive;
      // Like the daemon's: the reply's state lives in the closure, released with it.
      std::shared_ptr<std::size_t> left(new std::size_t(pieces), [this](std::size_t* p) {
        delete p;
        --alive;
      });
      HttpReply reply;
      reply.stream = [this, left](std::string& piece) {
        if (*left == 0) return false;
        --*left;
        piece.append(kPiece, 'c');
        produced += kPiece;
        return true;
      };
      return reply;
    };
    r.debug_stats = [] { return HttpReply{200, "{}"}; };
    r.metrics = [] { return HttpReply{200, ""}; };
    r.dns = [] { return HttpReply{200, "{}"}; };
    return r;
  }
};

// An ApiServer on a scratch socket, its routes the fake's, with `limits`; the group does not
// exist, so the socket keeps the test's own group.
struct Served {
  explicit Served(const ApiLimits& l) : limits(l) {}

  test::TempDir dir;
  const std::string sock = (dir / "s.sock").string();
  FakeDaemon fake;
  const ApiLimits limits;
  ApiServer server{sock, kToken, "no-such-group-cnmkit", fake.routes(), limits};
};

// Waits up to `limit` for pred().
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Whether the server closed fd (reads EOF), without waiting.
inline bool closed_by_server(int fd) {
  char c;
  return ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
}

// Forked processes, killed and reaped when the test ends, however it ends.
struct Children {
  std::vector<pid_t> pids;
  ~Children() {
    for (const pid_t pid : pids) ::kill(pid, SIGKILL);
    for (const pid_t pid : pids) ::waitpid(pid, nullptr, 0);
  }
};

}  // namespace cnm::probe::test_api
