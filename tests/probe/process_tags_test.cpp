// Connections carry the process that owns the socket, also when client and server are different
// processes. The server here is a forked child with its own name; the client is this process.
// Over loopback the server's handshake and any reset it receives are processed in softirq
// inside the client's own syscalls, so a probe that took "the current task" there would tag the
// server's sockets with the client: the test fails on exactly that.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "tests/probe/probe_daemon.h"

namespace cnm::test {
namespace {

constexpr const char* kServerComm = "cnm-tag-server";
constexpr int kConnections = 40;
constexpr std::size_t kBytes = 3000;

// The child: accepts `n` connections one at a time; reads kBytes, writes kBytes back, reads
// until the client is gone, closes. Only system calls (the parent has threads).
[[noreturn]] void serve(int listener, int n, bool server_aborts) {
  ::prctl(PR_SET_NAME, kServerComm);
  static char buf[kBytes];
  for (int i = 0; i < n; ++i) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) ::_exit(2);
    std::size_t got = 0;
    while (got < kBytes) {
      const ssize_t r = ::read(fd, buf, kBytes - got);
      if (r <= 0) ::_exit(3);
      got += static_cast<std::size_t>(r);
    }
    if (::write(fd, buf, kBytes) != static_cast<ssize_t>(kBytes)) ::_exit(4);
    if (server_aborts) {
      // Straight to CLOSE from close() (no FIN_WAIT1): the process that owns the socket.
      const linger lg{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    } else {
      while (::read(fd, buf, sizeof buf) > 0) {
      }
    }
    ::close(fd);
  }
  ::_exit(0);
}

struct Served {
  pid_t server_pid = -1;
  std::uint16_t server_port = 0;
  std::vector<std::uint16_t> client_ports;
};

// Runs kConnections exchanges against a forked server; `abort` closes each client with
// SO_LINGER 0, so the server's socket is ended by the RST, in softirq, before its process
// closes it.
Served exchange_with_child_server(bool abort, bool server_aborts = false) {
  Served s;
  const int listener = loopback_listener(s.server_port);
  EXPECT_GE(listener, 0);
  auto a = ipv4("127.0.0.1", s.server_port);
  s.server_pid = ::fork();
  if (s.server_pid == 0) serve(listener, kConnections, server_aborts);
  ::close(listener);
  for (int i = 0; i < kConnections; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ADD_FAILURE() << "connect: " << std::strerror(errno);
      break;
    }
    s.client_ports.push_back(local_port_of(fd));
    write_n(fd, kBytes);  // throws on a short transfer
    read_n(fd, kBytes);
    if (abort) {
      const linger lg{1, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::close(fd);
  }
  int status = 0;
  ::waitpid(s.server_pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "server child status " << status;
  return s;
}

// Both ends of every exchange, closed, by client port.
ClosedEnds both_ends(const ProbeDaemon& d, const std::string& client, const Served& s) {
  return gather_loopback_closed_ends(d, client, s.server_port, s.client_ports);
}

class ProcessTags : public ::testing::TestWithParam<ProbeMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, ProcessTags, ::testing::ValuesIn(probe_modes()),
                         [](const auto& p) { return probe_mode_name(p.param); });

TEST_P(ProcessTags, ServerSocketsCarryTheServerProcessAndClientSocketsTheClient) {
  ProbeDaemon d(GetParam());
  const Served s = exchange_with_child_server(/*abort=*/false);
  ASSERT_EQ(s.client_ports.size(), static_cast<std::size_t>(kConnections));
  auto [client, server] = both_ends(d, "tags", s);
  ASSERT_EQ(client.size(), s.client_ports.size()) << d.get("/debug/stats").body;
  ASSERT_EQ(server.size(), s.client_ports.size()) << d.get("/debug/stats").body;
  const int self = static_cast<int>(::getpid());
  for (auto port : s.client_ports) {
    SCOPED_TRACE("client port " + std::to_string(port));
    EXPECT_EQ(client[port]["pid"], self) << client[port].dump();
    EXPECT_EQ(client[port]["comm"], self_comm()) << client[port].dump();
    EXPECT_EQ(client[port]["direction"], "outgoing");
    EXPECT_EQ(server[port]["pid"], s.server_pid) << server[port].dump();
    EXPECT_EQ(server[port]["comm"], kServerComm) << server[port].dump();
    EXPECT_EQ(server[port]["direction"], "incoming");
    EXPECT_EQ(server[port]["bytes_received"], kBytes);
    EXPECT_EQ(server[port]["bytes_sent"], kBytes);
  }
}

// A server socket reset by its peer: never tagged with the peer. With the per-call hooks its
// reads and writes name the server; without them the reset names it only when the server held
// the socket (the kernel then processes the RST in the server's own call), else pid 0.
TEST_P(ProcessTags, ServerSocketResetByThePeerIsNeverTaggedWithThePeer) {
  ProbeDaemon d(GetParam());
  const Served s = exchange_with_child_server(/*abort=*/true);
  ASSERT_EQ(s.client_ports.size(), static_cast<std::size_t>(kConnections));
  auto [client, server] = both_ends(d, "tags-rst", s);
  ASSERT_EQ(server.size(), s.client_ports.size()) << d.get("/debug/stats").body;
  const int self = static_cast<int>(::getpid());
  const bool per_call = GetParam().per_call;
  for (auto port : s.client_ports) {
    SCOPED_TRACE("client port " + std::to_string(port));
    EXPECT_EQ(client[port]["pid"], self) << client[port].dump();
    const int pid = server[port]["pid"];
    EXPECT_NE(pid, self) << server[port].dump();
    if (per_call) {
      EXPECT_EQ(pid, s.server_pid) << server[port].dump();
    }
    EXPECT_TRUE(pid == 0 || pid == s.server_pid) << server[port].dump();
    EXPECT_EQ(server[port]["comm"], pid ? kServerComm : "") << server[port].dump();
  }
}

// A server that aborts (SO_LINGER 0) goes from ESTABLISHED straight to CLOSE inside its own
// close(): the probe sees the socket locked by its owner and names the server.
TEST_P(ProcessTags, ServerThatAbortsIsTaggedWithTheServer) {
  ProbeDaemon d(GetParam());
  const Served s = exchange_with_child_server(/*abort=*/false, /*server_aborts=*/true);
  ASSERT_EQ(s.client_ports.size(), static_cast<std::size_t>(kConnections));
  auto [client, server] = both_ends(d, "tags-abort", s);
  ASSERT_EQ(server.size(), s.client_ports.size()) << d.get("/debug/stats").body;
  for (auto port : s.client_ports) {
    SCOPED_TRACE("client port " + std::to_string(port));
    EXPECT_EQ(server[port]["pid"], s.server_pid) << server[port].dump();
    EXPECT_EQ(server[port]["comm"], kServerComm) << server[port].dump();
    EXPECT_EQ(client[port]["tcp_failures"]["reset"], 1) << client[port].dump();
  }
}

}  // namespace
}  // namespace cnm::test
