// TCP failure causes, each provoked for real: a refused connect (no listener on a loopback
// port), a reset (the server aborts with SO_LINGER 0 while the client waits), a connect timeout
// (nftables drops every SYN inside a namespace the test made, TCP_SYNCNT 1). The socket that
// suffered the failure reports it; the one that caused it (its own process closed it) reports
// none.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tests/probe/bpf_runs.h"
#include "tests/probe/net_env.h"
#include "tests/probe/probe_daemon.h"
#include "tests/probe/state_trace.h"

namespace cnm::test {
namespace {

// A client socket bound to a free port first: a connect that fails releases the port, so the
// test learns it before connecting, as the probe must (from the socket, not from getsockname).
int bound_client(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  auto any = ipv4("0.0.0.0", 0);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0) return -1;
  port = local_port_of(fd);
  return fd;
}

// A client as bound_client, on a port other than `avoid`: bound to the very port it then
// connects to on 127.0.0.1, a socket reaches itself (TCP simultaneous open) and the connect
// succeeds. The kernel's ephemeral ports may hand out a port just released (seen in CI: "the
// connect to a port without listener" returned 0).
int bound_client_not(std::uint16_t avoid, std::uint16_t& port) {
  int fd = bound_client(port);
  if (fd >= 0 && port == avoid) {
    const int other = bound_client(port);  // not `avoid` again: fd still holds it
    ::close(fd);
    fd = other;
  }
  return fd;
}

nlohmann::json failures(int reset, int refused, int timeout) {
  return {{"reset", reset}, {"refused", refused}, {"timeout", timeout}};
}

// The entries the daemon holds open now, as a new client sees them. A connect that never got
// its close has one (pid and comm of this test, no peer yet); another host connection has its
// own: this tells a lost close from a lost open when the counts disagree.
std::string open_entries(const ProbeDaemon& d) {
  auto open = nlohmann::json::array();
  // Held: a range over a member of the temporary reply would dangle.
  const auto reply = d.get_json("/network_tracer/connections?client_id=open-now");
  for (const auto& c : reply["connections"])
    if (c["closed"] == false) open.push_back(c);
  return open.dump();
}

class TcpFailures : public ::testing::TestWithParam<ProbeMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, TcpFailures, ::testing::ValuesIn(probe_modes()),
                         [](const auto& p) { return probe_mode_name(p.param); });

TEST_P(TcpFailures, ConnectToAPortWithoutListenerIsRefused) {
  ProbeDaemon d(GetParam());
  // A port nobody listens on: bound, then released.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  auto a = ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const auto port = local_port_of(probe);
  ::close(probe);
  std::set<int> lports;
  for (int i = 0; i < 20; ++i) {
    std::uint16_t mine = 0;
    const int fd = bound_client_not(port, mine);
    ASSERT_GE(fd, 0);
    auto to = ipv4("127.0.0.1", port);
    ASSERT_NE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_EQ(errno, ECONNREFUSED);
    lports.insert(mine);
    ::close(fd);
  }
  const auto got = closed_by_lport(d, "refused", lports, "127.0.0.1", port);
  ASSERT_EQ(got.size(), lports.size()) << d.get("/debug/stats").body;
  for (const auto& [lport, c] : got) {
    EXPECT_EQ(c["tcp_failures"], failures(0, 1, 0)) << c.dump();
    EXPECT_EQ(c["direction"], "outgoing");
    EXPECT_EQ(c["rport"], port);
    EXPECT_EQ(c["bytes_sent"], 0);
  }
}

TEST_P(TcpFailures, ServerAbortResetsTheClientAndIsNoFailureOfTheServer) {
  ProbeDaemon d(GetParam());
  std::uint16_t port = 0;
  const int l = loopback_listener(port);
  ASSERT_GE(l, 0);
  std::set<int> client_ports;
  for (int i = 0; i < 20; ++i) {
    const int c = ::socket(AF_INET, SOCK_STREAM, 0);
    auto to = ipv4("127.0.0.1", port);
    ASSERT_EQ(::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    const int s = ::accept(l, nullptr, nullptr);
    ASSERT_GE(s, 0);
    ASSERT_EQ(::write(c, "ping", 4), 4);
    char buf[8];
    ASSERT_EQ(::read(s, buf, 4), 4);
    const linger lg{1, 0};
    ::setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    ::close(s);  // RST
    EXPECT_LT(::read(c, buf, sizeof buf), 0);
    EXPECT_EQ(errno, ECONNRESET);
    client_ports.insert(local_port_of(c));
    ::close(c);
  }
  ::close(l);
  // Both ends, matched by the whole tuple (the host's other loopback connections use
  // ephemeral ports too).
  auto [clients, servers] = gather_loopback_closed_ends(
      d, "reset", port, std::vector<std::uint16_t>(client_ports.begin(), client_ports.end()));
  ASSERT_EQ(clients.size(), client_ports.size()) << d.get("/debug/stats").body;
  ASSERT_EQ(servers.size(), client_ports.size()) << d.get("/debug/stats").body;
  for (const auto& [p, c] : clients) EXPECT_EQ(c["tcp_failures"], failures(1, 0, 0)) << c.dump();
  // The servers aborted on purpose: their own close, no failure.
  for (const auto& [p, c] : servers) EXPECT_EQ(c["tcp_failures"], failures(0, 0, 0)) << c.dump();
}

TEST_P(TcpFailures, ConnectWhoseSynsAreDroppedTimesOut) {
  NetnsPair net("cnmto");
  // Run counts for the failure's message (this failed in CI now and then, see below).
  const BpfRunCounting counting;
  ProbeDaemon d(GetParam());
  const StateTrace kernel_saw("dport == 9");
  const auto recovered_before = d.get_json("/debug/stats")["conn_map_closes_recovered"].get<int>();
  drop_incoming_syns(net.b, "cnmto");
  // Five connects at once, each giving up after one SYN retry (about 3 s).
  constexpr int kConnects = 5;
  std::vector<int> ports(kConnects, 0), errs(kConnects, 0);
  std::vector<std::thread> ts;
  for (int i = 0; i < kConnects; ++i)
    ts.emplace_back([&, i] {
      in_netns(net.a, [&] {
        std::uint16_t mine = 0;
        const int fd = bound_client(mine);
        const int syncnt = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof syncnt);
        auto to = ipv4(net.addr_b, 9);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) errs[i] = errno;
        ports[i] = mine;
        ::close(fd);
      });
    });
  for (auto& t : ts) t.join();
  std::set<int> lports;
  for (int i = 0; i < kConnects; ++i) {
    EXPECT_EQ(errs[i], ETIMEDOUT);
    lports.insert(ports[i]);
  }
  nlohmann::json seen;
  const auto got = closed_by_lport(d, "timeout", lports, net.addr_b, 9, &seen);
  // Everything that could tell a lost close from a late one (in CI now and then two of five
  // closes were missing from the kernel side's own count; never when run alone): with the
  // programs' run counts, whether the state program ran for them (2 transitions per connect),
  // the entries left open, whether theirs stayed (a lost close) or never were (a lost open),
  // and the kernel's own trace of the transitions, whether it made them at all.
  ASSERT_EQ(got.size(), lports.size())
      << "ports " << nlohmann::json(ports).dump() << " errnos " << nlohmann::json(errs).dump()
      << "\nrecords to port 9: " << seen.dump() << "\nstats: " << d.get("/debug/stats").body
      << "\nprograms (run counting " << (counting.on() ? "on" : "unavailable")
      << "):" << probe_program_runs() << "\nopen now: " << open_entries(d)
      << "\nthe kernel's transitions to port 9 (ftrace):" << kernel_saw.text();
  // A close the state program missed and refresh_open recovered carries no cause: connect()
  // returned the error and so cleared it from the socket. Only those may lack the timeout.
  const auto recovered =
      d.get_json("/debug/stats")["conn_map_closes_recovered"].get<int>() - recovered_before;
  int without_cause = 0;
  for (const auto& [lport, c] : got) {
    if (c["tcp_failures"] != failures(0, 0, 1)) ++without_cause;
    EXPECT_EQ(c["tcp_failures"]["reset"].get<int>() + c["tcp_failures"]["refused"].get<int>(), 0)
        << c.dump();
    EXPECT_EQ(c["netns"], net.inode_a);
    EXPECT_EQ(c["raddr"], net.addr_b);
  }
  EXPECT_LE(without_cause, recovered) << "records to port 9: " << seen.dump();
  EXPECT_LT(without_cause, static_cast<int>(got.size())) << "no record kept its cause";
}

}  // namespace
}  // namespace cnm::test
