// The API server's cap on connections that never authenticated is per local user (SO_PEERCRED
// uid): a user who floods the socket with silent connections evicts only their own, never
// another user's, and the other user's own flood leaves the first user's alone. Two real users:
// root (this test) and nobody (a forked child that drops to uid and gid 65534). Needs root to
// become another user; fails, never skips, without it.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/probe/api_server_fixture.h"

namespace cnm::probe {
namespace {

using namespace test_api;

constexpr uid_t kNobody = 65534;

// A child process holding `count` silent connections as user nobody. It reports how many of
// them the server has closed each time it is asked (a byte on `ask`, the count on `tell`).
class NobodysConnections {
 public:
  static constexpr int kMaxCount = 256;

  NobodysConnections(const std::string& sock, int count, Children& children) {
    if (count > kMaxCount) throw std::invalid_argument("at most kMaxCount connections");
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe2");
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      serve(sock, count, to_child[0], from_child[1]);
    }
    children.pids.push_back(pid);
    pid_ = pid;
    ::close(to_child[0]);
    ::close(from_child[1]);
    ask_ = to_child[1];
    tell_ = from_child[0];
  }
  ~NobodysConnections() {
    ::close(ask_);
    ::close(tell_);
  }

  // How many of nobody's connections the server has closed; -1 when the child failed (it
  // could not become nobody or connect: why() says how it ended) or did not answer in 5 s.
  int closed() const {
    const char q = '?';
    if (::write(ask_, &q, 1) != 1) return -1;  // EPIPE: the test ignores SIGPIPE
    pollfd p{tell_, POLLIN, 0};
    int n = 0;
    if (::poll(&p, 1, 5000) != 1 || ::read(tell_, &n, sizeof n) != sizeof n) return -1;
    return n;
  }

  // How the child ended, when it has: 89 descriptors, 90 becoming nobody, 91 connecting.
  std::string why() const {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return "the child is running";
    return WIFEXITED(status) ? "the child exited " + std::to_string(WEXITSTATUS(status))
                             : "the child was killed by signal " + std::to_string(WTERMSIG(status));
  }

 private:
  // In the child (of a threaded process: no allocation): drop every descriptor inherited but
  // its pipes (a copy of a connection's server side would keep it open past the server's
  // close), become nobody, connect `count` times, then answer every question until the
  // parent goes.
  [[noreturn]] static void serve(const std::string& sock, int count, int ask, int tell) {
    // Out of the way first (either may be 3 or 4), then to 3 and 4, everything else closed.
    const int high_ask = ::fcntl(ask, F_DUPFD, 100), high_tell = ::fcntl(tell, F_DUPFD, 100);
    if (high_ask < 0 || high_tell < 0 || ::dup2(high_ask, 3) != 3 || ::dup2(high_tell, 4) != 4 ||
        ::close_range(5, ~0U, 0) != 0)
      ::_exit(89);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
        ::setresuid(kNobody, kNobody, kNobody) != 0)
      ::_exit(90);
    int fds[kMaxCount];
    for (int i = 0; i < count; ++i)
      if ((fds[i] = connect_to(sock)) < 0) ::_exit(91);
    for (char q; ::read(3, &q, 1) == 1;) {
      int n = 0;
      for (int i = 0; i < count; ++i) n += closed_by_server(fds[i]);
      if (::write(4, &n, sizeof n) != sizeof n) ::_exit(92);
    }
    ::_exit(0);
  }

  int ask_ = -1, tell_ = -1;
  pid_t pid_ = -1;
};

TEST(ApiServerUsers, OneUsersSilentConnectionsNeverEvictAnotherUsers) {
  ASSERT_EQ(::geteuid(), 0u) << "this test needs root: it connects as a second user (nobody)";
  // A dead child's pipe must fail a write, not end the test binary.
  ::signal(SIGPIPE, SIG_IGN);
  ApiLimits limits;
  limits.max_per_peer = 64;
  limits.max_unauthenticated_per_uid = 8;
  // Only evictions close a silent connection here, never a deadline on a slow machine.
  limits.idle_timeout = limits.head_deadline = std::chrono::minutes(10);
  Served s(limits);
  // Nobody must reach the socket: through the scratch folder (0700 from mkdtemp) and the socket
  // itself (0660, the test's group).
  ASSERT_EQ(::chmod(s.dir.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(s.sock.c_str(), 0666), 0);

  // Root: 6 silent connections, under its cap of 8.
  std::vector<int> roots;
  for (int i = 0; i < 6; ++i) {
    roots.push_back(connect_to(s.sock));
    ASSERT_GE(roots.back(), 0);
  }
  // Nobody: 24, three times its cap, from another process (its first answer comes once it has
  // made them all).
  Children children;
  const NobodysConnections nobody(s.sock, 24, children);
  ASSERT_GE(nobody.closed(), 0) << "the child could not become nobody or connect: " << nobody.why();
  // A token holder's reply comes after the server accepted (and evicted) everything before it.
  ASSERT_EQ(get_status(s.sock, "/health"), 200);
  EXPECT_EQ(nobody.closed(), 16) << "nobody's connections closed (24 past a cap of 8: 16)";
  for (std::size_t i = 0; i < roots.size(); ++i)
    EXPECT_FALSE(closed_by_server(roots[i]))
        << "root's silent connection " << i << " was evicted for another user's flood";

  // Root past its own cap: 10 silent, then the token holder's, so room is made among root's
  // connections (its 3 oldest go), and none of nobody's 8 left is touched.
  for (int i = 0; i < 4; ++i) {
    roots.push_back(connect_to(s.sock));
    ASSERT_GE(roots.back(), 0);
  }
  ASSERT_EQ(get_status(s.sock, "/health"), 200);
  for (std::size_t i = 0; i < roots.size(); ++i)
    EXPECT_EQ(closed_by_server(roots[i]), i < 3) << "root's silent connection " << i;
  EXPECT_EQ(nobody.closed(), 16) << "root's connections evicted nobody's";
  for (const int fd : roots) ::close(fd);
}

}  // namespace
}  // namespace cnm::probe
