// Connections already open when the daemon starts (a restart of the probe on a host with
// long-lived connection pools): the tp_btf modes find them with a TCP socket iterator right
// after attaching, report them as direction "local" (who opened them is unknown) with counters
// from that moment, exact, and close them like any other. The raw_tp mode has no iterator:
// it says so in its log and reports none of them.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "tests/probe/net_env.h"
#include "tests/probe/probe_daemon.h"

namespace cnm::test {
namespace {

class Snapshot : public ::testing::TestWithParam<ProbeMode> {};
INSTANTIATE_TEST_SUITE_P(Modes, Snapshot, ::testing::ValuesIn(probe_modes()),
                         [](const auto& p) { return probe_mode_name(p.param); });

TEST_P(Snapshot, ConnectionsOpenBeforeTheStartAreReportedWithCountersFromThen) {
  ExchangeSpec spec;
  spec.family = 4;
  spec.server_addr = "127.0.0.1";
  spec.count = 30;
  spec.keep_open = true;
  spec.c2s = [](int i) { return 5000 + i; };  // before the start: not counted
  spec.s2c = [](int i) { return 7000 + i; };
  auto xs = run_exchanges(spec);

  ProbeDaemon d(GetParam());
  const auto stats = d.get_json("/debug/stats");
  if (!GetParam().snapshot) {
    EXPECT_EQ(stats["tcp_open_at_start"], 0);
    EXPECT_NE(d.log().find("connections open before the start"), std::string::npos) << d.log();
    close_all(xs);
    return;
  }
  EXPECT_GE(stats["tcp_open_at_start"].get<int>(), 2 * spec.count) << stats.dump();
  // After the start: known bytes each way on every connection.
  std::map<std::uint16_t, std::pair<std::uint64_t, std::uint64_t>> after;  // client port
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const std::uint64_t up = 100 + 3 * i, down = 200 + 5 * i;
    write_n(xs[i].client_fd, up);
    read_n(xs[i].server_fd, up);
    write_n(xs[i].server_fd, down);
    read_n(xs[i].client_fd, down);
    after[xs[i].client_port] = {up, down};
  }
  close_all(xs);
  auto [client, server] = gather_closed_ends(d, "snapshot", xs);
  ASSERT_EQ(client.size(), xs.size()) << d.get("/debug/stats").body;
  ASSERT_EQ(server.size(), xs.size()) << d.get("/debug/stats").body;
  for (const auto& x : xs) {
    const auto [up, down] = after[x.client_port];
    const auto& c = client[x.client_port];
    const auto& s = server[x.client_port];
    SCOPED_TRACE("client port " + std::to_string(x.client_port));
    EXPECT_EQ(c["direction"], "local") << c.dump();
    EXPECT_EQ(c["bytes_sent"], up) << c.dump();
    EXPECT_EQ(c["bytes_received"], down) << c.dump();
    EXPECT_EQ(s["bytes_sent"], down) << s.dump();
    EXPECT_EQ(s["bytes_received"], up) << s.dump();
    EXPECT_EQ(c["netns"], netns_inode("")) << c.dump();
    // The closes were made by this process: its pid from then.
    EXPECT_EQ(c["pid"], static_cast<int>(::getpid())) << c.dump();
  }
}

// A container's connections live in its own network namespace; the iterator walks only the
// namespace it is started in, so the daemon starts one per namespace.
TEST_P(Snapshot, ConnectionsInAnotherNetworkNamespaceAreFoundToo) {
  Netns ns("cnmsnap");
  ExchangeSpec spec;
  spec.client_ns = spec.server_ns = ns.name;
  spec.family = 4;
  spec.server_addr = "127.0.0.1";
  spec.count = 10;
  spec.keep_open = true;
  auto xs = run_exchanges(spec);
  ProbeDaemon d(GetParam());
  if (!GetParam().snapshot) {
    EXPECT_EQ(d.get_json("/debug/stats")["tcp_open_at_start"], 0);
    close_all(xs);
    return;
  }
  EXPECT_GE(d.get_json("/debug/stats")["tcp_open_at_start"].get<int>(), 2 * spec.count);
  for (auto& x : xs) {
    write_n(x.client_fd, 77);
    read_n(x.server_fd, 77);
  }
  close_all(xs);
  auto [client, server] = gather_closed_ends(d, "snapshot-ns", xs);
  ASSERT_EQ(client.size(), xs.size()) << d.log();
  ASSERT_EQ(server.size(), xs.size()) << d.log();
  for (const auto& x : xs) {
    EXPECT_EQ(client[x.client_port]["netns"], ns.inode);
    EXPECT_EQ(client[x.client_port]["bytes_sent"], 77);
    EXPECT_EQ(server[x.client_port]["bytes_received"], 77);
  }
}

}  // namespace
}  // namespace cnm::test
