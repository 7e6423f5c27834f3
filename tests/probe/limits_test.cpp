// Bounded memory: with max_tracked_connections 1000 and 5000 connections (10000 sockets) open,
// the map stays at its size, every socket not tracked is counted as a drop, memory stays
// bounded and the daemon keeps serving.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "tests/probe/net_env.h"
#include "tests/probe/probe_daemon.h"

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

// max_entries of the daemon's BPF hash maps (map_type 1), from its fds' fdinfo.
std::vector<long> hash_map_sizes(pid_t pid) {
  std::vector<long> sizes;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
    std::ifstream in(e.path());
    std::string line;
    long type = -1, max = -1;
    while (std::getline(in, line)) {
      if (line.rfind("map_type:", 0) == 0) type = std::stol(line.substr(9));
      if (line.rfind("max_entries:", 0) == 0) max = std::stol(line.substr(12));
    }
    if (type == 1) sizes.push_back(max);
  }
  return sizes;
}

// Entries actually in the daemon's connection map (the hash map among its fds), counted key by
// key: the truth the daemon's conn_map_entries_current (derived from its counters) must match.
long hash_map_entries(pid_t pid) {
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo")) {
    std::ifstream in(e.path());
    std::string line;
    long type = -1, id = -1;
    while (std::getline(in, line)) {
      if (line.rfind("map_type:", 0) == 0) type = std::stol(line.substr(9));
      if (line.rfind("map_id:", 0) == 0) id = std::stol(line.substr(7));
    }
    if (type != 1 || id < 0) continue;
    const int fd = bpf_map_get_fd_by_id(static_cast<__u32>(id));
    if (fd < 0) return -1;
    long n = 0;
    __u64 key = 0, next = 0;
    for (const __u64* k = nullptr; bpf_map_get_next_key(fd, k, &next) == 0; k = &key) {
      key = next;
      ++n;
    }
    ::close(fd);
    return n;
  }
  return -1;
}

TEST(ProbeLimits, FullMapCountsDropsStaysBoundedAndKeepsServing) {
  // 10000 sockets plus the test's own fds: raise the soft limit to the hard one.
  rlimit rl{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &rl), 0);
  rl.rlim_cur = rl.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &rl), 0);
  ASSERT_GE(rl.rlim_cur, 12000u) << "the hard fd limit is too low for 10000 sockets (ulimit -Hn)";
  ProbeDaemon d(
      "network_config:\n  max_tracked_connections: 1000\n  max_closed_connections_buffered: "
      "2000\n");
  EXPECT_EQ(hash_map_sizes(d.pid()), std::vector<long>{1000});
  const auto before = d.get_json("/debug/stats");

  ExchangeSpec spec;
  spec.family = 4;
  spec.server_addr = "127.0.0.1";
  spec.count = 5000;
  spec.keep_open = true;
  spec.c2s = [](int) { return 10; };
  spec.s2c = [](int) { return 10; };
  auto xs = run_exchanges(spec);

  const auto during = d.get_json("/debug/stats");
  EXPECT_LE(during["conn_map_entries_current"], 1000);
  // Nothing closes meanwhile, so the reported count is the map's own.
  EXPECT_EQ(during["conn_map_entries_current"].get<long>(), hash_map_entries(d.pid()));
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
  EXPECT_EQ(after, hash_map_entries(d.pid()));
  spec.count = 10;
  spec.keep_open = false;
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

}  // namespace
}  // namespace cnm::test
