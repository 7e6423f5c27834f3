// Start and stop: a bad config fails with line and column, SIGTERM detaches every program (in
// both byte-counting modes),
// and `cnmctl preflight --bpf-objects` loads the daemon's objects without attaching them.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "tests/probe/probe_daemon.h"

namespace cnm::test {
namespace {

// BPF program ids the process holds (from its fds' fdinfo).
std::set<unsigned> prog_ids_of(pid_t pid) {
  std::set<unsigned> ids;
  const auto dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("prog_id:", 0) == 0)
        ids.insert(static_cast<unsigned>(std::stoul(line.substr(8))));
  }
  return ids;
}

TEST(ProbeLifecycle, MalformedConfigFailsWithLineAndColumnAndExit2) {
  TempDir dir;
  write_file(dir / "bad.yaml", "network_config:\n  enabled: true\n   max_tracked_connections: [\n");
  const auto r = run({cnm_probe_path(), "--config", (dir / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find((dir / "bad.yaml").string() + ":3:"), std::string::npos) << r.err;
  write_file(dir / "range.yaml", "network_config:\n  max_tracked_connections: -5\n");
  const auto r2 = run({cnm_probe_path(), "--config", (dir / "range.yaml").string()});
  EXPECT_EQ(r2.exit_code, 2);
  EXPECT_NE(r2.err.find("range.yaml:2:28"), std::string::npos) << r2.err;
}

// Names of the programs a process holds.
std::set<std::string> prog_names(const std::set<unsigned>& ids) {
  std::set<std::string> names;
  for (unsigned id : ids) {
    const int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) names.insert(info.name);
    ::close(fd);
  }
  return names;
}

// Each mode loads its own programs: by default nothing runs per send or receive (the kernel's
// counters, refreshed on demand by refresh_open) and inet_sock_set_state is the tp_btf program,
// its build with connection slots, with the snapshot iterator (run once at start); without
// slots (below 128 tracked) the other build; hook_set: raw_tp loads the raw one instead (with the
// iterator, the kernel having BTF), raw_tp_perf the legacy object's; per_call_hooks adds the
// send/recv programs.
// Kernel program names stop at 15 characters.
TEST(ProbeLifecycle, SigtermDetachesEveryProgram) {
  const struct {
    std::string yaml;
    std::set<std::string> programs;
    std::size_t hooks;
  } modes[] = {
      {"", {"set_state_btf_s", "tcp_retransmit_", "refresh_open", "snapshot_slots"}, 2},
      {"network_config:\n  max_tracked_connections: 100\n",  // no slots: the other build
       {"set_state_btf", "tcp_retransmit_", "refresh_open", "snapshot"},
       2},
      {"network_config:\n  hook_set: raw_tp\n",
       {"inet_sock_set_s", "tcp_retransmit_", "refresh_open", "snapshot_slots"},
       2},
      {"network_config:\n  hook_set: raw_tp_perf\n", {"perf_set_state", "perf_retransmit"}, 2},
      {"network_config:\n  per_call_hooks: true\n",
       {"set_state_btf_s", "tcp_retransmit_", "refresh_open", "snapshot_slots", "sock_send_lengt",
        "sock_recv_lengt"},
       4},
  };
  for (const auto& m : modes) {
    SCOPED_TRACE(m.yaml.empty() ? "default" : m.yaml);
    ProbeDaemon d(m.yaml);
    const auto ids = prog_ids_of(d.pid());
    EXPECT_EQ(prog_names(ids), m.programs);
    EXPECT_EQ(d.get_json("/health")["hooks"].size(), m.hooks);
    EXPECT_EQ(d.stop(), 0);
    // The kernel frees a program after its last reference goes, asynchronously (RCU): 5 s.
    std::set<unsigned> left = ids;
    for (int i = 0; i < 100 && !left.empty(); ++i) {
      std::erase_if(left, [](unsigned id) {
        const int fd = bpf_prog_get_fd_by_id(id);
        if (fd >= 0) ::close(fd);
        return fd < 0;
      });
      if (!left.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(left.empty()) << left.size() << " program(s) still loaded 5 s after SIGTERM";
    EXPECT_NE(d.log().find("BPF programs detached"), std::string::npos);
    EXPECT_FALSE(std::filesystem::exists(d.socket_path()));
  }
}

TEST(ProbeLifecycle, PreflightLoadsTheDaemonsObjectsWithoutAttaching) {
  const auto dir = std::string(CNM_BINARY_DIR) + "/probe/bpf";
  ASSERT_TRUE(std::filesystem::exists(dir + "/tcp_tracer.bpf.o"));
  const auto r = run({cnmctl(), "preflight", "--json", "--bpf-objects", dir});
  const auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& c : j["checks"]) {
    if (c["id"] != "ebpf.probe_objects") continue;
    found = true;
    EXPECT_EQ(c["status"], "pass") << c.dump();
    const std::string msg = c.dump();
    for (const char* prog :
         {"set_state_btf", "set_state_btf_slots", "inet_sock_set_state",
          "inet_sock_set_state_slots", "snapshot", "snapshot_slots", "sock_send_length",
          "sock_recv_length", "tcp_retransmit_skb", "refresh_open"})
      EXPECT_NE(msg.find(std::string("tcp_tracer.bpf.o:") + prog), std::string::npos) << msg;
  }
  EXPECT_TRUE(found) << r.out.substr(0, 400);
}

}  // namespace
}  // namespace cnm::test
