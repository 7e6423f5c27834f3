// Ground truth: 1000 TCP connections over loopback (IPv4 and IPv6) and 1000 over a veth pair
// between two namespaces made here, each with a distinct, known byte count each way. Every
// connection must be reported by both its sockets, with exactly the bytes this test moved,
// the right direction, pid, comm and network namespace.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <tuple>

#include "tests/probe/net_env.h"
#include "tests/probe/probe_daemon.h"
#include "tests/probe/tcp_segments.h"

namespace cnm::test {
namespace {

using Key = ConnKey;  // laddr, lport, raddr, rport

// Every exchange must appear twice (client and server socket), closed, with exact numbers. A
// client port can come back for a later exchange: on loopback the kernel reuses a connecting
// port whose earlier socket is in TIME_WAIT (net.ipv4.tcp_tw_reuse 2, the default), and Linux
// 5.10 does so often. Clients see one tuple then for two connections: the test expects the sum
// of their bytes, and the older server socket may be reset by the new SYN (it waits in LAST_ACK
// for the ACK of its FIN): a reset there is the kernel's, counted at most once per reuse.
void expect_reported(const ProbeDaemon& d, const std::vector<Exchange>& xs,
                     std::uint32_t client_netns, std::uint32_t server_netns,
                     const std::string& client_id) {
  std::map<Key, std::vector<const Exchange*>> want_client, want_server;
  for (const auto& x : xs) {
    want_client[{x.client_addr, x.client_port, x.server_addr, x.server_port}].push_back(&x);
    want_server[{x.server_addr, x.server_port, x.client_addr, x.client_port}].push_back(&x);
  }
  const std::size_t sockets = want_client.size() + want_server.size();
  std::map<Key, nlohmann::json> seen;
  // Done when every socket's record is its closed one (until then more deltas may come), and
  // every connection of a reused tuple came (its counters are the sum of theirs).
  auto expected_bytes = [&](const Key& k) {
    const bool is_client = want_client.contains(k);
    std::uint64_t sent = 0, received = 0;
    for (const Exchange* x : is_client ? want_client.at(k) : want_server.at(k)) {
      sent += is_client ? x->c2s : x->s2c;
      received += is_client ? x->s2c : x->c2s;
    }
    return std::pair{sent, received};
  };
  auto count_mine = [&](const nlohmann::json& all) {
    seen.clear();
    for (const auto& [k, c] : totals_by_tuple(all))
      if ((want_client.contains(k) || want_server.contains(k)) && c["closed"] == true) seen[k] = c;
    if (seen.size() != sockets) return false;
    for (const auto& [k, c] : seen)
      if (c["bytes_sent"].get<std::uint64_t>() < expected_bytes(k).first) return false;
    return true;
  };
  const auto all = gather_connections(d, client_id, count_mine);
  if (seen.size() != sockets) {
    // What came for the first few sockets missing: every record of their ports, in order.
    std::string missing;
    int shown = 0;
    for (const auto* want : {&want_client, &want_server})
      for (const auto& [k, x] : *want) {
        if (seen.contains(k) || shown++ >= 5) continue;
        missing += "\n  " + std::get<0>(k) + ":" + std::to_string(std::get<1>(k)) + " -> " +
                   std::get<2>(k) + ":" + std::to_string(std::get<3>(k)) + ":";
        for (const auto& c : all)
          if (c["lport"] == std::get<1>(k) || c["rport"] == std::get<1>(k))
            missing += "\n    " + c.dump();
      }
    FAIL() << seen.size() << " of " << sockets << " sockets reported closed; missing:" << missing
           << "\ndaemon log:\n"
           << d.log() << "\nstats: " << d.get("/debug/stats").body;
  }

  const auto pid = static_cast<int>(::getpid());
  const auto comm = self_comm();
  int bad = 0;
  for (const auto& [k, c] : seen) {
    const bool is_client = want_client.contains(k);
    const auto& mine = is_client ? want_client.at(k) : want_server.at(k);
    const auto [sent, received] = expected_bytes(k);
    const int reuses = static_cast<int>(mine.size()) - 1;
    const auto& f = c["tcp_failures"];
    const bool failures_ok = f["refused"] == 0 && f["timeout"] == 0 &&
                             (is_client ? f["reset"] == 0 : f["reset"].get<int>() <= reuses);
    const bool ok = c["bytes_sent"] == sent && c["bytes_received"] == received &&
                    c["direction"] == (is_client ? "outgoing" : "incoming") && c["pid"] == pid &&
                    c["comm"] == comm && c["netns"] == (is_client ? client_netns : server_netns) &&
                    c["closed"] == true && c["type"] == "tcp" && c["family"] == mine[0]->family &&
                    failures_ok;
    if (!ok && bad++ < 5)
      ADD_FAILURE() << (is_client ? "client " : "server ") << c.dump() << " expected sent=" << sent
                    << " received=" << received << " pid=" << pid << " comm=" << comm
                    << " (tuple used " << mine.size() << " time(s))";
  }
  // A client socket the kernel closed in FIN_WAIT2 for want of a TIME_WAIT bucket
  // (net.ipv4.tcp_max_tw_buckets, 8192 in a 2-GB VM) answers the server's FIN with a reset: a
  // real one, but the host's, not the probe's. The count tells such a failure apart.
  EXPECT_EQ(bad, 0)
      << "connections with wrong numbers; TcpExt TCPTimeWaitOverflow here since boot: "
      << tcp_ext_counter("TCPTimeWaitOverflow");
}

// Whether open connections carry the kernel's counters of this moment: the rung (its attempt's
// text in /debug/stats) refreshes them (refresh_open, Linux 5.13+) or counts per call (the
// send/recv hooks, Linux 6.4+).
bool counts_open_connections_live(const std::string& attempt) {
  return attempt.find("refresh") != std::string::npos ||
         attempt.find("send_bytes") != std::string::npos;
}

// Every test runs in each of the daemon's modes (probe_modes()): each rung of the ladder this
// kernel runs, forced, reading the kernel's tcp_sock counters (nothing per send or receive), the
// best rung with a BTF file instead of the kernel's BTF, and the per-call hooks.
class ProbeGroundTruth : public ::testing::TestWithParam<ProbeMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, ProbeGroundTruth, ::testing::ValuesIn(probe_modes()),
                         [](const auto& p) { return probe_mode_name(p.param); });

ExchangeSpec make_spec(int family, const std::string& server_addr, int count) {
  ExchangeSpec s;
  s.family = family;
  s.server_addr = server_addr;
  s.count = count;
  return s;
}

TEST_P(ProbeGroundTruth, LoopbackIPv4AndIPv6ExactBytesDirectionPidNetns) {
  ProbeDaemon d(GetParam());
  const auto ns = netns_inode("");
  auto v4 = make_spec(4, "127.0.0.1", 700);
  v4.c2s = [](int i) { return 1000 + 13 * i; };
  v4.s2c = [](int i) { return 500 + 7 * i; };
  const auto xs4 = run_exchanges(v4);
  auto v6 = make_spec(6, "::1", 300);
  v6.c2s = [](int i) { return 3 + 11 * i; };
  v6.s2c = [](int i) { return 20000 + 17 * i; };
  const auto xs6 = run_exchanges(v6);
  auto all = xs4;
  all.insert(all.end(), xs6.begin(), xs6.end());
  expect_reported(d, all, ns, ns, "gt-loopback");
  const auto stats = d.get_json("/debug/stats");
  EXPECT_EQ(stats["conn_map_full"], 0);
  EXPECT_EQ(stats["closed_ringbuf_full"], 0);
  // Runs the kernel skipped (a program is not re-entered on a CPU) are counted, not silent.
  EXPECT_TRUE(stats.contains("hook_runs_skipped") && stats["hook_runs_skipped"].is_number())
      << stats.dump();
}

TEST_P(ProbeGroundTruth, DualStackSocketTalkingIPv4IsReportedAsIPv4) {
  ProbeDaemon d(GetParam());
  // An AF_INET6 listener on ::ffff:127.0.0.1 and AF_INET6 clients: both ends are v4-mapped.
  auto spec = make_spec(6, "::ffff:127.0.0.1", 20);
  spec.c2s = [](int i) { return 10 + i; };
  spec.s2c = [](int i) { return 30 + i; };
  auto xs = run_exchanges(spec);
  for (auto& x : xs) {
    ASSERT_EQ(x.client_addr, "::ffff:127.0.0.1");
    x.client_addr = x.server_addr = "127.0.0.1";
    x.family = 4;
  }
  expect_reported(d, xs, netns_inode(""), netns_inode(""), "dual");
}

TEST_P(ProbeGroundTruth, VethBetweenTwoNamespacesExactBytesDirectionPidNetns) {
  NetnsPair net("cnmgt");
  ProbeDaemon d(GetParam());
  auto spec = make_spec(4, net.addr_b, 1000);
  spec.client_ns = net.a;
  spec.server_ns = net.b;
  spec.c2s = [](int i) { return 1 + 29 * i; };
  spec.s2c = [](int i) { return 4096 + 3 * i; };
  const auto xs = run_exchanges(spec);
  ASSERT_EQ(xs.front().client_addr, net.addr_a);
  expect_reported(d, xs, net.inode_a, net.inode_b, "gt-veth");
}

// Packets and RTT come from the kernel's own tcp_sock counters, the ones tcp_info shows. An
// abortive close (SO_LINGER 0) moves the client socket to CLOSE before its RST goes out and
// before the counters are reset, so what the probe reads at close is exactly what tcp_info
// said just before; the server's socket then receives that RST, its one more segment in.
TEST_P(ProbeGroundTruth, PacketsAndRttAreTheKernelsTcpInfoAtClose) {
  ProbeDaemon d(GetParam());
  auto spec = make_spec(4, "127.0.0.1", 50);
  spec.keep_open = true;
  spec.c2s = [](int i) { return 1 + 4099 * i; };  // 1 byte to ~200 KB: a spread of segments
  spec.s2c = [](int i) { return 7 + 2011 * i; };
  auto xs = run_exchanges(spec);
  // Every byte acknowledged at both ends: nothing is in flight while tcp_info is read.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const auto settled = [&] {
    for (const auto& x : xs)
      if (get_tcp_info(x.client_fd).tcpi_unacked || get_tcp_info(x.server_fd).tcpi_unacked)
        return false;
    return true;
  };
  while (!settled() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(settled());
  // And no ACK still delayed (a pure ACK is a segment out): TCP_QUICKACK sends a pending one now
  // (tcp_cleanup_rbuf). In a slow VM one was still pending 40 ms after the data was acked.
  for (const auto& x : xs)
    for (const int fd : {x.client_fd, x.server_fd}) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the ACKs land
  std::map<std::uint16_t, tcp_info> client_info, server_info;  // by client port
  std::map<std::uint16_t, TcpSegments> client_segs, server_segs;
  for (auto& x : xs) {
    client_info[x.client_port] = get_tcp_info(x.client_fd);
    server_info[x.client_port] = get_tcp_info(x.server_fd);
    client_segs[x.client_port] = get_tcp_segments(x.client_fd);
    server_segs[x.client_port] = get_tcp_segments(x.server_fd);
    const linger lg{1, 0};
    ASSERT_EQ(::setsockopt(x.client_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
  }
  close_all(xs);

  auto [client_side, server_side] = gather_closed_ends(d, "pkts", xs);
  ASSERT_EQ(client_side.size(), xs.size()) << d.get("/debug/stats").body;
  ASSERT_EQ(server_side.size(), xs.size()) << d.get("/debug/stats").body;
  std::uint64_t segments = 0;
  for (const auto& x : xs) {
    const auto& ci = client_info[x.client_port];
    const auto& si = server_info[x.client_port];
    const auto& cs = client_segs[x.client_port];
    const auto& ss = server_segs[x.client_port];
    const auto& c = client_side[x.client_port];
    const auto& s = server_side[x.client_port];
    SCOPED_TRACE("client port " + std::to_string(x.client_port));
    EXPECT_EQ(c["packets_sent"], cs.out) << c.dump();
    EXPECT_EQ(c["packets_received"], cs.in) << c.dump();
    EXPECT_EQ(c["rtt_us"], ci.tcpi_rtt) << c.dump();
    EXPECT_EQ(c["rttvar_us"], ci.tcpi_rttvar) << c.dump();
    EXPECT_EQ(c["retransmits"], ci.tcpi_total_retrans) << c.dump();
    EXPECT_EQ(s["packets_sent"], ss.out) << s.dump();
    EXPECT_EQ(s["packets_received"], ss.in + 1) << "the RST " << s.dump();
    EXPECT_EQ(s["rtt_us"], si.tcpi_rtt) << s.dump();
    EXPECT_EQ(s["rttvar_us"], si.tcpi_rttvar) << s.dump();
    EXPECT_GT(c["rtt_us"].get<std::uint32_t>(), 0u);
    // Bytes through an abortive close: no FIN either way, the client's RST ends both sockets.
    EXPECT_EQ(c["bytes_sent"], x.c2s) << c.dump();
    EXPECT_EQ(c["bytes_received"], x.s2c) << c.dump();
    EXPECT_EQ(s["bytes_sent"], x.s2c) << s.dump();
    EXPECT_EQ(s["bytes_received"], x.c2s) << s.dump();
    // The client chose to abort (no failure of its own); the server was reset.
    EXPECT_EQ(c["tcp_failures"]["reset"], 0) << c.dump();
    EXPECT_EQ(s["tcp_failures"]["reset"], 1) << s.dump();
    segments += cs.out;
  }
  EXPECT_GT(segments, 2 * xs.size())
      << "the exchanges moved almost nothing: the test proves little";
}

TEST_P(ProbeGroundTruth, OpenConnectionsAreReportedWithDeltasAndTheReplyMatchesTheSchema) {
  ProbeDaemon d(GetParam());
  auto spec = make_spec(4, "127.0.0.1", 20);
  spec.keep_open = true;
  spec.c2s = [](int i) { return 100 + i; };
  spec.s2c = [](int i) { return 200 + i; };
  auto xs = run_exchanges(spec);
  // Open connections carry the kernel's counters of this moment where the rung refreshes them
  // (refresh_open, Linux 5.13+) or the per-call hooks count as they go (Linux 6.4+); elsewhere
  // the counters they had when first seen (none: an outgoing one is seen at its SYN), as
  // probe/README.md says. What the daemon runs says which (Linux 5.10 has neither).
  const auto stats = d.get_json("/debug/stats");
  const bool live = counts_open_connections_live(stats["rung"]["attempt"]);
  const auto first = d.get_json("/network_tracer/connections?client_id=open");
  EXPECT_EQ(schema_errors(first), "");
  int found = 0;
  for (const auto& c : first["connections"]) {
    for (const auto& x : xs) {
      if (c["lport"] == x.client_port && c["rport"] == x.server_port) {
        ++found;
        EXPECT_EQ(c["closed"], false);
        EXPECT_EQ(c["bytes_sent"], live ? x.c2s : 0) << stats["rung"].dump();
        EXPECT_EQ(c["bytes_received"], live ? x.s2c : 0);
      }
    }
  }
  EXPECT_EQ(found, 20);
  // Second call: no new bytes on those sockets, so their deltas are zero.
  const auto second = d.get_json("/network_tracer/connections?client_id=open");
  for (const auto& c : second["connections"])
    for (const auto& x : xs)
      if (c["lport"] == x.client_port && c["rport"] == x.server_port) {
        EXPECT_EQ(c["bytes_sent"], 0);
      }
  close_all(xs);
  const auto after = gather_connections(d, "open", [](const nlohmann::json&) { return true; });
  EXPECT_EQ(schema_errors({{"connections", after}, {"stats", first["stats"]}}), "");
}

// The daemon refreshes open connections' counters (refresh_open) from a system call, so a state
// change of another socket can run on the same CPU in the middle of it. With connections opening
// and closing all the while, a connection that moves no bytes must still show none moved: its
// deltas stay zero, poll after poll (a refresh that read another socket's fields would show).
TEST_P(ProbeGroundTruth, OpenConnectionsStayExactWhileOtherSocketsOpenAndClose) {
  ProbeDaemon d(GetParam());
  auto spec = make_spec(4, "127.0.0.1", 50);
  spec.keep_open = true;
  spec.c2s = [](int i) { return 1000 + 7 * i; };
  spec.s2c = [](int i) { return 3000 + 5 * i; };
  auto xs = run_exchanges(spec);
  std::atomic<bool> stop{false};
  std::atomic<long> churned{0};
  std::thread churn([&] {
    std::uint16_t port = 0;
    const int l = loopback_listener(port);
    while (!stop) {
      const int c = ::socket(AF_INET, SOCK_STREAM, 0);
      auto to = ipv4("127.0.0.1", port);
      if (::connect(c, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
        const int s = ::accept(l, nullptr, nullptr);
        if (s >= 0) ::close(s);
        ++churned;
      }
      ::close(c);
    }
    ::close(l);
  });
  // Open connections carry live counters where the rung refreshes them or counts per call
  // (as in the test above); elsewhere the ones they had when first seen: none.
  const std::string attempt = d.get_json("/debug/stats")["rung"]["attempt"];
  const bool live = counts_open_connections_live(attempt);
  std::map<std::uint16_t, const Exchange*> kept;  // by client port
  for (const auto& x : xs) kept[x.client_port] = &x;
  const auto server_port = xs.front().server_port;
  // Bounded in time too: natively a poll takes ~6 ms, in a VM's emulated CPU ~60 ms and, on a
  // loaded CI machine, up to ~400 ms: 4 s, or longer until the 21 polls that tell (at most 20 s).
  const auto start = std::chrono::steady_clock::now();
  const auto enough = [&](int polls) {
    const auto spent = std::chrono::steady_clock::now() - start;
    return polls >= 300 || spent > std::chrono::seconds(20) ||
           (polls > 20 && spent > std::chrono::seconds(4));
  };
  int polls = 0, wrong = 0, seen_first = 0;
  std::string first_wrong;
  for (; !enough(polls); ++polls) {
    const auto reply = d.get_json("/network_tracer/connections?client_id=churn");
    for (const auto& c : reply["connections"]) {
      if (c["rport"] != server_port || !kept.contains(c["lport"].get<std::uint16_t>())) continue;
      const Exchange& x = *kept.at(c["lport"].get<std::uint16_t>());
      // The first reply carries each connection's whole counters, every later one deltas.
      if (polls == 0) ++seen_first;
      const std::uint64_t sent = polls == 0 && live ? x.c2s : 0;
      const std::uint64_t received = polls == 0 && live ? x.s2c : 0;
      if ((c["bytes_sent"] != sent || c["bytes_received"] != received) && wrong++ == 0)
        first_wrong = "poll " + std::to_string(polls) + ": " + c.dump();
    }
  }
  stop = true;
  churn.join();
  close_all(xs);
  EXPECT_EQ(seen_first, 50);
  EXPECT_GT(polls, 20);
  EXPECT_GT(churned.load(), 100) << "too little churn to tell";
  EXPECT_EQ(wrong, 0) << first_wrong << " (" << polls << " polls, " << churned << " churned, "
                      << attempt << ")";
}

// A socket that connects to its own address goes SYN_SENT -> SYN_RECV -> ESTABLISHED (a
// simultaneous open): it is one outgoing connection with its own bytes, not an accepted one
// replacing it (which once counted its acknowledged SYN as a byte sent).
TEST_P(ProbeGroundTruth, SimultaneousOpenIsOneConnectionWithExactBytes) {
  ProbeDaemon d(GetParam());
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto self = ipv4("127.0.0.1", 0);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&self), sizeof self), 0);
  const std::uint16_t port = local_port_of(s);
  self = ipv4("127.0.0.1", port);
  ASSERT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&self), sizeof self), 0);
  write_n(s, 777);
  read_n(s, 777);
  ::close(s);
  const auto got = closed_by_lport(d, "self", {port}, "127.0.0.1", port);
  ASSERT_EQ(got.size(), 1u) << d.get("/debug/stats").body;
  const auto& mine = got.begin()->second;
  EXPECT_EQ(mine["direction"], "outgoing") << mine.dump();
  EXPECT_EQ(mine["bytes_sent"], 777) << mine.dump();
  EXPECT_EQ(mine["bytes_received"], 777) << mine.dump();
  EXPECT_EQ(mine["pid"], ::getpid()) << mine.dump();
}

}  // namespace
}  // namespace cnm::test
