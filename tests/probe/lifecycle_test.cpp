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

#include "probe/kernel_answers.h"
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

// Every BPF program loaded in the kernel, by id (root tests run one at a time: the shared lock).
std::set<unsigned> all_prog_ids() {
  std::set<unsigned> ids;
  for (__u32 id = 0; bpf_prog_get_next_id(id, &id) == 0;) ids.insert(id);
  return ids;
}

TEST(ProbeLifecycle, MalformedConfigFailsWithLineAndColumnAndExit2) {
  TempDir dir;
  write_file(dir / "bad.yaml", "network_config:\n  enabled: true\n   max_tracked_connections: [\n");
  const auto r = run({cnm_probe_path(), "--config", (dir / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find((dir / "bad.yaml").string() + ":3:"), std::string::npos) << r.err;
  write_file(dir / "range.yaml", "system_probe_config:\n  max_tracked_connections: -5\n");
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
// send/recv programs. What the kernel lacks is left out, asked of it here on its own (the VM
// matrix runs this on 5.10: no compare-and-swap, no bpf_for_each_map_elem, no sock_send_length).
// Kernel program names stop at 15 characters.
TEST(ProbeLifecycle, SigtermDetachesEveryProgram) {
  const bool slots = cnm::probe::kernel_has_bpf_cmpxchg();  // Linux 5.12
  const bool refresh = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
                                               BPF_FUNC_for_each_map_elem, nullptr) == 1;
  const auto index =
      sh("ls /sys/kernel/tracing/events/sock/sock_send_length 2>/dev/null || "
         "bpftool btf dump file /sys/kernel/btf/vmlinux | grep -q "
         "\"'btf_trace_sock_send_length'\" && echo yes");
  const bool per_call = !index.out.empty();  // Linux 6.4
  auto with = [](std::set<std::string> names, bool on, std::set<std::string> more) {
    if (on) names.insert(more.begin(), more.end());
    return names;
  };
  const std::set<std::string> btf_slots =
      with({"tcp_retransmit_", slots ? "set_state_btf_s" : "set_state_btf",
            slots ? "snapshot_slots" : "snapshot"},
           refresh, {"refresh_open"});
  const struct {
    std::string yaml;
    std::set<std::string> programs;
    std::size_t hooks;
  } modes[] = {
      {"", btf_slots, 2},
      {"system_probe_config:\n  max_tracked_connections: 100\n",  // no slots: the other build
       with({"set_state_btf", "tcp_retransmit_", "snapshot"}, refresh, {"refresh_open"}), 2},
      {"network_config:\n  hook_set: raw_tp\n",
       with({"inet_sock_set_s", "tcp_retransmit_", slots ? "snapshot_slots" : "snapshot"}, refresh,
            {"refresh_open"}),
       2},
      {"network_config:\n  hook_set: raw_tp_perf\n", {"perf_set_state", "perf_retransmit"}, 2},
      {"network_config:\n  per_call_hooks: true\n",
       with(btf_slots, per_call, {"sock_send_lengt", "sock_recv_lengt"}), per_call ? 4u : 2u},
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

// The preflight's dry run loads exactly the programs the daemon loads on this kernel (the same
// ladder, the same attempt), without attaching them: from the build's folder (what
// --bpf-objects verifies on an installed host) and from the objects cnmctl carries.
TEST(ProbeLifecycle, PreflightLoadsTheDaemonsProgramsWithoutAttaching) {
  ProbeDaemon d;
  std::set<std::string> daemon_programs = prog_names(prog_ids_of(d.pid()));
  const auto dir = std::string(CNM_BINARY_DIR) + "/probe/bpf";
  ASSERT_TRUE(std::filesystem::exists(dir + "/tcp_tracer.bpf.o"));
  for (const bool embedded : {false, true}) {
    SCOPED_TRACE(embedded ? "embedded" : dir);
    TempDir cache;  // a cold run: nothing remembered, every program loaded
    write_file(cache / "layout.yaml", "cache_dir: " + (cache / "c").string() + "\n");
    std::vector<std::string> argv = {cnmctl(), "--layout", (cache / "layout.yaml").string(),
                                     "preflight", "--json"};
    if (!embedded) argv.insert(argv.end(), {"--bpf-objects", dir});
    const auto before = all_prog_ids();
    const auto r = run(argv);
    const auto j = nlohmann::json::parse(r.out);
    std::set<std::string> verified;
    for (const auto& c : j["checks"]) {
      if (c["id"] != "ebpf.probe_objects") continue;
      EXPECT_EQ(c["status"], "pass") << c.dump();
      const std::string msg = c["message"];
      EXPECT_EQ(msg.find("remembered"), std::string::npos) << msg;
      // "N probe program(s) pass the verifier: obj:prog, obj:prog [objects ...]"
      const auto from = msg.find(": ") + 2;
      std::string list = msg.substr(from, msg.find(" [") - from);
      for (std::size_t at = 0; at < list.size();) {
        const auto end = std::min(list.find(", ", at), list.size());
        const auto item = list.substr(at, end - at);
        if (item.rfind("tcp_tracer", 0) == 0)
          verified.insert(item.substr(item.find(':') + 1, 15));  // the kernel keeps 15
        at = end + 2;
      }
    }
    EXPECT_EQ(verified, daemon_programs);
    // Nothing left behind (the kernel frees a program after its last reference, via RCU).
    auto after = all_prog_ids();
    for (int i = 0; i < 100 && after != before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      after = all_prog_ids();
    }
    EXPECT_EQ(after, before);
  }
}

}  // namespace
}  // namespace cnm::test
