// Bounded memory: with max_tracked_connections 1000 and 5000 connections (10000 sockets) open,
// the slots and the map stay at their size, every socket not tracked is counted as a drop,
// memory stays bounded and the daemon keeps serving. And the two places for open connections
// work together: connections beyond the slots go to the map, each reported once, exactly.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "probe/kernel_answers.h"
#include "tests/probe/net_env.h"
#include "tests/probe/probe_daemon.h"

extern "C" {
#include "probe/bpf/tcp_tracer.h"
}

namespace cnm::test {
namespace {

// The daemon's memory bound (the 64 MiB); an ASan build's daemon carries shadow
// memory and quarantine, so there the bound only catches runaway growth.
#if defined(__SANITIZE_ADDRESS__)
constexpr long kRssLimitKib = 512 * 1024;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr long kRssLimitKib = 512 * 1024;
#else
constexpr long kRssLimitKib = 64 * 1024;
#endif
#else
constexpr long kRssLimitKib = 64 * 1024;
#endif

// The daemon's two places for open connections: the slot array (an array map whose values are
// connection records) and the hash map, by size or by entries in use.
struct ConnTables {
  long slots = -1, map = -1;
};

struct MapInfo {
  long type = -1, max = -1, value_size = -1, id = -1;
};

std::vector<MapInfo> daemon_maps(pid_t pid) {
  std::vector<MapInfo> maps;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
    std::ifstream in(e.path());
    std::string line;
    MapInfo m;
    while (std::getline(in, line)) {
      if (line.rfind("map_type:", 0) == 0) m.type = std::stol(line.substr(9));
      if (line.rfind("max_entries:", 0) == 0) m.max = std::stol(line.substr(12));
      if (line.rfind("value_size:", 0) == 0) m.value_size = std::stol(line.substr(11));
      if (line.rfind("map_id:", 0) == 0) m.id = std::stol(line.substr(7));
    }
    if (m.type >= 0) maps.push_back(m);
  }
  return maps;
}

constexpr long kHashMap = 1, kArrayMap = 2;
bool is_slot_array(const MapInfo& m) {
  return m.type == kArrayMap && m.value_size == static_cast<long>(sizeof(cnm_conn));
}

ConnTables conn_table_sizes(pid_t pid) {
  ConnTables t;
  for (const auto& m : daemon_maps(pid)) {
    if (m.type == kHashMap) t.map = m.max;
    if (is_slot_array(m)) t.slots = m.max;
  }
  return t;
}

// Entries in use, read key by key (map keys; slots holding a socket, published or not): the
// truth the daemon's conn_map_entries_current (derived from its counters) must match.
ConnTables conn_table_used(pid_t pid) {
  ConnTables t;
  for (const auto& m : daemon_maps(pid)) {
    if (m.type != kHashMap && !is_slot_array(m)) continue;
    const int fd = bpf_map_get_fd_by_id(static_cast<__u32>(m.id));
    if (fd < 0) return {};
    long n = 0;
    if (m.type == kHashMap) {
      __u64 key = 0, next = 0;
      for (const __u64* k = nullptr; bpf_map_get_next_key(fd, k, &next) == 0; k = &key) {
        key = next;
        ++n;
      }
      t.map = n;
    } else {
      cnm_conn v{};
      for (__u32 i = 0; i < static_cast<__u32>(m.max); ++i)
        if (bpf_map_lookup_elem(fd, &i, &v) == 0 && v.sk != 0) ++n;
      t.slots = n;
    }
    ::close(fd);
  }
  return t;
}

long tracked(const ConnTables& t) { return std::max(t.slots, 0L) + std::max(t.map, 0L); }

// `count` loopback IPv4 connections, kept open, moving c2s(i) and s2c(i) bytes each way.
std::vector<Exchange> open_loopback(int count, std::function<std::uint64_t(int)> c2s,
                                    std::function<std::uint64_t(int)> s2c) {
  ExchangeSpec spec;
  spec.family = 4;
  spec.server_addr = "127.0.0.1";
  spec.count = count;
  spec.keep_open = true;
  spec.c2s = std::move(c2s);
  spec.s2c = std::move(s2c);
  return run_exchanges(spec);
}

TEST(ProbeLimits, FullMapCountsDropsStaysBoundedAndKeepsServing) {
  // 10000 sockets plus the test's own fds.
  ASSERT_GE(raise_fd_limit(), 12000u)
      << "the hard fd limit is too low for 10000 sockets (ulimit -Hn)";
  ProbeDaemon d(
      "system_probe_config:\n  max_tracked_connections: 1000\n  max_closed_connections_buffered: "
      "2000\n");
  // An eighth of 1000, as a power of two, in slots; the map holds the rest. A kernel without
  // BPF compare-and-swap (before 5.12: the VM matrix's 5.10) has no slots: the map holds all.
  const long slots = probe::kernel_has_bpf_cmpxchg() ? 64 : 0;
  const auto sizes = conn_table_sizes(d.pid());
  EXPECT_EQ(sizes.slots, slots ? slots : 1);  // an array map has at least one entry
  EXPECT_EQ(sizes.map, 1000 - slots);
  const auto before = d.get_json("/debug/stats");

  auto xs = open_loopback(
      5000, [](int) { return 10; }, [](int) { return 10; });

  const auto during = d.get_json("/debug/stats");
  EXPECT_LE(during["conn_map_entries_current"], 1000);
  // Nothing closes meanwhile, so the reported count is the map's own.
  EXPECT_EQ(during["conn_map_entries_current"].get<long>(), tracked(conn_table_used(d.pid())));
  EXPECT_EQ(during["conn_map_max"], 1000);
  // 10000 sockets, at most 1000 slots: at least 9000 were not tracked, and each is counted.
  EXPECT_GE(during["conn_map_full"].get<long>() - before["conn_map_full"].get<long>(), 9000)
      << during.dump();
  EXPECT_LT(d.rss_kib(), kRssLimitKib) << "daemon RSS in KiB";

  // Still serving, and the reply is bounded by the map.
  EXPECT_EQ(d.get("/health").status, 200);
  const auto reply = d.get_json("/network_tracer/connections?client_id=limits");
  EXPECT_LE(reply["connections"].size(), 1000u);
  EXPECT_GE(reply["stats"]["conn_map_full"].get<long>(), 9000);
  EXPECT_EQ(schema_errors(reply), "");

  close_all(xs);
  // Closing frees the slots (every tracked socket closes: the map drains to 0); new connections
  // are tracked again.
  gather_connections(d, "limits", [&](const nlohmann::json&) {
    return d.get_json("/debug/stats")["conn_map_entries_current"] == 0;
  });
  const auto after = d.get_json("/debug/stats")["conn_map_entries_current"].get<long>();
  EXPECT_LT(after, 100);
  EXPECT_EQ(after, tracked(conn_table_used(d.pid())));
  ExchangeSpec spec;  // 10 more, closed at once
  spec.family = 4;
  spec.server_addr = "127.0.0.1";
  spec.count = 10;
  spec.c2s = [](int) { return 10; };
  spec.s2c = [](int) { return 10; };
  const auto again = run_exchanges(spec);
  int found = 0;
  gather_connections(d, "limits", [&](const nlohmann::json& all) {
    found = 0;
    for (const auto& c : all)
      for (const auto& x : again)
        if (c["lport"] == x.client_port && c["rport"] == x.server_port && c["bytes_sent"] == 10)
          ++found;
    return found == 10;
  });
  EXPECT_EQ(found, 10);
}

// 300 connections kept open (600 sockets) with max_tracked_connections 1000: more than the 64
// slots hold, so most go to the map. Each is reported open in one reply, and again closed after,
// once, with its exact bytes each way; nothing is dropped and both places empty again.
// A kernel without BPF compare-and-swap (before 5.12) has no slots, and one without
// bpf_for_each_map_elem (before 5.13) shows open connections with the counters they had when
// first seen (none yet): there, every connection is in the map, and its open bytes are zero.
TEST(ProbeLimits, ConnectionsBeyondTheSlotsGoToTheMapEachOnceWithExactBytes) {
  const bool slots = probe::kernel_has_bpf_cmpxchg();
  const bool live = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
                                            BPF_FUNC_for_each_map_elem, nullptr) == 1;
  ProbeDaemon d("system_probe_config:\n  max_tracked_connections: 1000\n");
  const auto before = d.get_json("/debug/stats");
  auto xs = open_loopback(
      300, [](int i) { return 1000 + i; }, [](int i) { return 5000 + 7 * i; });

  const auto used = conn_table_used(d.pid());
  if (slots) {
    EXPECT_GT(used.slots, 0);
    EXPECT_GE(used.map, 600 - 64);
  } else {
    EXPECT_EQ(used.slots, 0);
    EXPECT_EQ(used.map, 600);
  }
  EXPECT_EQ(d.get_json("/debug/stats")["conn_map_entries_current"].get<long>(), tracked(used));

  // Open: both sockets of every exchange, each once, with what it sent and received so far.
  const auto reply = d.get_json("/network_tracer/connections?client_id=slots");
  std::map<std::pair<int, int>, std::vector<nlohmann::json>> open;  // (lport, rport)
  for (const auto& c : reply["connections"])
    if (!c["closed"].get<bool>() && c["laddr"] == "127.0.0.1" && c["raddr"] == "127.0.0.1")
      open[{c["lport"].get<int>(), c["rport"].get<int>()}].push_back(c);
  for (const auto& x : xs) {
    const auto& cl = open[{x.client_port, x.server_port}];
    const auto& sv = open[{x.server_port, x.client_port}];
    ASSERT_EQ(cl.size(), 1u) << "client port " << x.client_port;
    ASSERT_EQ(sv.size(), 1u) << "server side of client port " << x.client_port;
    EXPECT_EQ(cl[0]["bytes_sent"], live ? x.c2s : 0);
    EXPECT_EQ(cl[0]["bytes_received"], live ? x.s2c : 0);
    EXPECT_EQ(sv[0]["bytes_sent"], live ? x.s2c : 0);
    EXPECT_EQ(sv[0]["bytes_received"], live ? x.c2s : 0);
  }

  // Closed, to a client that never called: each end once, whole (a second record would double
  // its bytes).
  close_all(xs);
  const auto ends = gather_closed_ends(d, "slots-closed", xs);
  ASSERT_EQ(ends.client.size(), xs.size());
  ASSERT_EQ(ends.server.size(), xs.size());
  for (const auto& x : xs) {
    const auto& cl = ends.client.at(x.client_port);
    const auto& sv = ends.server.at(x.client_port);
    EXPECT_EQ(cl["bytes_sent"], x.c2s) << x.client_port;
    EXPECT_EQ(cl["bytes_received"], x.s2c) << x.client_port;
    EXPECT_EQ(sv["bytes_sent"], x.s2c) << x.client_port;
    EXPECT_EQ(sv["bytes_received"], x.c2s) << x.client_port;
  }
  const auto after = d.get_json("/debug/stats");
  EXPECT_EQ(after["conn_map_full"], before["conn_map_full"]);
  EXPECT_EQ(after["conn_map_entries_current"].get<long>(), tracked(conn_table_used(d.pid())));
  EXPECT_LT(after["conn_map_entries_current"].get<long>(), 64) << after.dump();
}

// Below 128 tracked connections there are no slots: the daemon loads the programs' build
// without them (the one kernels before Linux 5.12 load) and every connection goes to the map.
TEST(ProbeLimits, WithoutSlotsEveryConnectionGoesToTheMap) {
  ProbeDaemon d("system_probe_config:\n  max_tracked_connections: 100\n");
  EXPECT_EQ(d.get_json("/debug/stats")["conn_map_slots"], 0);
  EXPECT_EQ(conn_table_sizes(d.pid()).map, 100);
  auto xs = open_loopback(
      20, [](int i) { return 100 + i; }, [](int i) { return 300 + i; });
  const auto used = conn_table_used(d.pid());
  EXPECT_EQ(used.slots, 0);
  EXPECT_GE(used.map, 40);
  close_all(xs);
  const auto ends = gather_closed_ends(d, "no-slots", xs);
  ASSERT_EQ(ends.client.size(), xs.size());
  for (const auto& x : xs) {
    EXPECT_EQ(ends.client.at(x.client_port)["bytes_sent"], x.c2s);
    EXPECT_EQ(ends.server.at(x.client_port)["bytes_sent"], x.s2c);
  }
}

}  // namespace
}  // namespace cnm::test
