// The preflight on this very host, as root, checked against independent sources of truth:
// bpftool's own feature probe, the kernel's sysfs, a tracefs mounted by the test in a private
// mount namespace, and a real BPF object with a program the verifier refuses.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

using nlohmann::json;

json check(const json& report, const std::string& id) {
  for (const auto& c : report["checks"])
    if (c["id"] == id) return c;
  ADD_FAILURE() << "no check " << id;
  return json::object();
}

// Every run remembers the kernel's answers in a cache folder of the test's own, not the
// machine's /var/cache/cnmkit (a test that wants a cold run starts with an empty one).
const std::string& test_layout() {
  static test::TempDir dir;
  static const std::string file = [] {
    test::write_file(dir / "layout.yaml", "cache_dir: " + (dir / "cache").string() + "\n");
    return (dir / "layout.yaml").string();
  }();
  return file;
}

json preflight(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {test::cnmctl(), "--layout", test_layout(), "preflight",
                                   "--json"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto r = test::run(argv);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return json::parse(r.out);
}

class LivePreflight : public ::testing::Test {
 protected:
  void SetUp() override {
    // Root is a requirement of this suite, not an excuse to skip: fail loudly without it.
    ASSERT_EQ(::geteuid(), 0u) << "live preflight tests need root (CI runs as root)";
  }
};

TEST_F(LivePreflight, ThisHostIsSupportedAndEbpfIsReallyThere) {
  const auto j = preflight();
  EXPECT_EQ(j["verdict"], "supported") << j.dump(2);
  EXPECT_EQ(check(j, "ebpf.syscall")["status"], "pass");
  EXPECT_EQ(check(j, "kernel.version")["status"], "pass");
  EXPECT_EQ(check(j, "ebpf.btf")["status"],
            std::filesystem::exists("/sys/kernel/btf/vmlinux") ? "pass" : "warn");
}

// The running kernel's version as its distribution states it, read apart from the preflight:
// Debian's /proc/version names the upstream version its package builds ("... Debian 6.1.55-1
// (2023-09-29)"), which its release (6.1.0-13-amd64) does not; other kernels' releases start
// with it. Three numbers, "6.1.55".
std::string stated_kernel_version() {
  std::ifstream in("/proc/version");
  std::string word, version;
  while (in >> word)
    if (word == "Debian" && in >> version) break;
  if (version.empty()) {
    utsname u{};
    ::uname(&u);
    version = u.release;
  }
  unsigned a = 0, b = 0, c = 0;
  EXPECT_EQ(std::sscanf(version.c_str(), "%u.%u.%u", &a, &b, &c), 3) << version;
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(std::min(c, 255u));
}

// Beside the Agent, a kernel its system_probe_config.excluded_linux_versions lists fails the host:
// the version the preflight compares is the one the kernel itself states (its vDSO), which on
// the VM matrix's Debian kernels is not the release's numbers.
TEST_F(LivePreflight, TheAgentsExcludedKernelIsThisKernelByItsOwnVersion) {
  test::TempDir dir;
  const auto config = dir / "system-probe.yaml";
  test::write_file(dir / "layout.yaml", "cache_dir: " + (dir / "cache").string() +
                                            "\nconfig_file: " + config.string() + "\n");
  const auto run = [&](const std::string& listed) {
    test::write_file(config, "system_probe_config:\n  excluded_linux_versions: [" + listed + "]\n");
    const auto r = test::run({test::cnmctl(), "--layout", (dir / "layout.yaml").string(),
                              "preflight", "--probe", "agent", "--json"});
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    return check(json::parse(r.out), "agent.excluded_kernel");
  };
  const auto version = stated_kernel_version();
  auto c = run("\"1.2.3\", \"" + version + "\"");
  EXPECT_EQ(c["status"], "fail") << c.dump();
  EXPECT_NE(c["message"].get<std::string>().find("version " + version + ", from the vDSO"),
            std::string::npos)
      << c.dump();
  c = run("\"1.2.3\"");
  EXPECT_EQ(c["status"], "pass") << c.dump();
}

TEST_F(LivePreflight, KprobesAreReportedAsTheKernelHasThem) {
  // This machine's kernel has no CONFIG_KPROBES: the kprobe PMU is absent, and the preflight
  // must say so (and pass on a kernel that has them).
  const bool has = std::filesystem::exists("/sys/bus/event_source/devices/kprobe/type");
  const auto c = check(preflight(), "ebpf.kprobes");
  EXPECT_EQ(c["status"], has ? "pass" : "warn") << c.dump();
}

// What the ladder asks (probe/ladder.h) is answered as bpftool answers it: every program type,
// map type and helper the checks name as available or missing, bpftool says the same of.
TEST_F(LivePreflight, ProgramMapAndHelperProbesAgreeWithBpftool) {
  const auto b = test::run({"bpftool", "feature", "probe", "kernel", "-j"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto features = json::parse(b.out);
  const auto j = preflight();
  // "available: a (...), b (...); missing: c (...); not asked ..." -> name: available?
  auto said = [](const std::string& msg) {
    std::map<std::string, bool> out;
    for (const auto& [label, have] :
         {std::pair{"available: ", true}, std::pair{"missing: ", false}}) {
      auto pos = msg.find(label);
      if (pos == std::string::npos) continue;
      pos += std::strlen(label);
      const auto end = msg.find(';', pos);
      std::string list = msg.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      for (std::size_t at = 0; at < list.size();) {  // "name (users), name (users)"
        const auto open = list.find(" (", at);
        if (open == std::string::npos) break;
        out[list.substr(at, open - at)] = have;
        const auto close = list.find(')', open);
        at = close == std::string::npos ? list.size() : close + 3;
      }
    }
    return out;
  };
  const auto progs = said(check(j, "ebpf.program_types")["message"]);
  ASSERT_FALSE(progs.empty()) << check(j, "ebpf.program_types").dump();
  for (const auto& [name, have] : progs)
    EXPECT_EQ(features["program_types"]["have_" + name + "_prog_type"].get<bool>(), have) << name;
  const auto maps = said(check(j, "ebpf.map_types")["message"]);
  ASSERT_TRUE(maps.contains("ringbuf")) << check(j, "ebpf.map_types").dump();
  for (const auto& [name, have] : maps)
    EXPECT_EQ(features["map_types"]["have_" + name + "_map_type"].get<bool>(), have) << name;
  // Helpers: raw tracepoint programs (refresh_open) call bpf_for_each_map_elem (Linux 5.13).
  const auto& raw = features["helpers"]["raw_tracepoint_available_helpers"];
  const bool for_each = std::find(raw.begin(), raw.end(), "bpf_for_each_map_elem") != raw.end();
  const std::string helpers = check(j, "ebpf.helpers")["message"];
  EXPECT_EQ(helpers.find("missing: for_each_map_elem") == std::string::npos, for_each) << helpers;
}

// A tracefs of the namespace's own, whether or not the host has one mounted there already (the
// private propagation keeps the umount from reaching the host).
const std::string kFreshTracefs =
    "{ umount /sys/kernel/tracing 2>/dev/null; mount -t tracefs nodev /sys/kernel/tracing; }";

TEST_F(LivePreflight, TracefsMountedInAPrivateNamespaceIsSeenAndUsed) {
  const auto r = test::run({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                            kFreshTracefs + " && exec \"$0\" --layout \"$1\" preflight --json",
                            test::cnmctl(), test_layout()});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  const auto j = json::parse(r.out);
  EXPECT_EQ(check(j, "mounts.tracefs")["status"], "pass");
  const auto tp = check(j, "ebpf.tracepoints");
  EXPECT_NE(tp["message"].get<std::string>().find("tracefs at /sys/kernel/tracing"),
            std::string::npos);
  // Each tracepoint the preflight says is missing is really absent from tracefs, and vice versa.
  const auto ls =
      test::run({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                 kFreshTracefs + " && ls -d /sys/kernel/tracing/events/sock/inet_sock_set_state "
                                 "/sys/kernel/tracing/events/tcp/tcp_retransmit_skb"});
  EXPECT_EQ(ls.exit_code == 0,
            tp["status"] == "pass" || tp["message"].get<std::string>().find(
                                          "sock/inet_sock_set_state") != std::string::npos);
}

// Without privileges the probe's programs cannot be loaded: the preflight cannot tell, so it
// does not say "supported" (the fleet report would roll the host out on its word).
TEST_F(LivePreflight, WithoutPrivilegesTheHostIsNotPassedAndTheFixIsRunAsRoot) {
  const auto r =
      test::run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", test::cnmctl(), "preflight", "--json"});
  ASSERT_EQ(r.exit_code, 1) << r.err << r.out;
  const auto j = json::parse(r.out);
  EXPECT_EQ(j["verdict"], "unsupported");
  EXPECT_EQ(j["features"]["probe_rung"], nullptr);
  const auto c = check(j, "ebpf.syscall");
  EXPECT_EQ(c["status"], "fail");
  EXPECT_NE(c["message"].get<std::string>().find("cannot tell"), std::string::npos);
  EXPECT_NE(c["remedy"].get<std::string>().find("sudo"), std::string::npos);
  EXPECT_EQ(check(j, "ebpf.helpers")["status"], "skip");
  EXPECT_EQ(check(j, "privileges.capabilities")["status"], "warn");
}

// --bpf-objects DIR verifies DIR's objects: the ladder's (here copies of the build's) and any
// other (a test object with one program the verifier refuses), each program reported.
TEST_F(LivePreflight, ProbeObjectsAreLoadedWithPerProgramVerifierResults) {
  test::TempDir dir;
  for (const char* o : {"tcp_tracer.bpf.o", "tcp_tracer_legacy.bpf.o", "dns_tap.bpf.o"})
    std::filesystem::copy_file(std::string(CNM_BINARY_DIR) + "/probe/bpf/" + o, dir / o);
  // The DNS filter's place: the object other than the ladder's that the preflight verifies.
  std::filesystem::copy_file(std::string(CNM_TEST_BPF_DIR) + "/verifier_cases.bpf.o",
                             dir / "dns_filter.bpf.o");
  const auto j = preflight({"--bpf-objects", dir.path().string()});
  const auto c = check(j, "ebpf.probe_objects");
  EXPECT_EQ(c["status"], "warn") << c.dump();
  const std::string msg = c["message"];
  EXPECT_NE(msg.find("1 probe program(s) refused: dns_filter.bpf.o:refused"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("dns_filter.bpf.o:accepted"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tcp_tracer.bpf.o:set_state_btf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dns_tap.bpf.o:dns_tap_egress"), std::string::npos) << msg;
  EXPECT_NE(msg.find("[objects " + dir.path().string()), std::string::npos) << msg;
  // The verifier's own words reach the operator.
  EXPECT_NE(msg.find("invalid"), std::string::npos) << msg;
  EXPECT_EQ(j["verdict"], "supported");
  EXPECT_EQ(check(j, "ebpf.rung")["status"], "pass");
}

// The features say which rung the host gets, as ebpf.rung does (the probe's tests check that
// the daemon then runs that rung: tests/probe/rungs_test.cpp).
TEST_F(LivePreflight, FeaturesNameTheRungAndWhatItGives) {
  const auto j = preflight();
  const std::string rung = j["features"]["probe_rung"];
  EXPECT_NE(check(j, "ebpf.rung")["message"].get<std::string>().find("runs rung " + rung + " here"),
            std::string::npos)
      << check(j, "ebpf.rung").dump();
  // This kernel, and the VM matrix's (Debian's, with BTF), run the best rung, with the TCP
  // iterator (5.9); live counters where bpftool sees bpf_for_each_map_elem (5.13: not 5.10).
  EXPECT_EQ(rung, "tp_btf");
  EXPECT_EQ(j["features"]["open_connections_at_start"], true);
  const auto b = test::run({"bpftool", "feature", "probe", "kernel", "-j"});
  const auto features = json::parse(b.out);
  const auto& raw = features["helpers"]["raw_tracepoint_available_helpers"];
  const bool for_each = std::find(raw.begin(), raw.end(), "bpf_for_each_map_elem") != raw.end();
  EXPECT_EQ(j["features"]["live_open_connection_counters"], for_each);
}

// The id the kernel gives a program loaded now: ids are handed out in increasing order, so two
// such ids bracket how many programs were loaded in between (root tests run one at a time).
unsigned next_program_id() {
  const bpf_insn ret0[] = {{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
                           {BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  const int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, nullptr, "GPL", ret0, 2, nullptr);
  EXPECT_GE(fd, 0);
  bpf_prog_info info{};
  __u32 len = sizeof info;
  bpf_obj_get_info_by_fd(fd, &info, &len);
  ::close(fd);
  return info.id;
}

// The kernel's answers and the verifier's verdicts are remembered per kernel build: a rerun
// loads no program into the kernel (program ids tell), answers the same, and says its verdicts
// were remembered. The memory lives in the layout's cache_dir, here a temp folder.
TEST_F(LivePreflight, ARerunRemembersAndLoadsNoProgram) {
  test::TempDir dir;
  test::write_file(dir / "layout.yaml", "cache_dir: " + (dir / "cache").string() + "\n");
  auto counted = [&] {
    const unsigned before = next_program_id();
    const auto r = test::run(
        {test::cnmctl(), "--layout", (dir / "layout.yaml").string(), "preflight", "--json"});
    const unsigned loads = next_program_id() - before - 1;
    EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    return std::pair{json::parse(r.out), loads};
  };
  const auto [first, first_loads] = counted();
  ASSERT_TRUE(std::filesystem::exists(dir / "cache/preflight-kernel.json"));
  EXPECT_GT(first_loads, 5u);  // feature probes and the probe's programs
  const auto [second, second_loads] = counted();
  EXPECT_EQ(second_loads, 0u);
  EXPECT_EQ(second["features"], first["features"]);
  for (const char* id : {"ebpf.program_types", "ebpf.map_types", "ebpf.helpers", "ebpf.rung"})
    EXPECT_EQ(check(second, id), check(first, id)) << id;
  const std::string msg = check(second, "ebpf.probe_objects")["message"];
  EXPECT_NE(msg.find("verdicts remembered for this kernel build"), std::string::npos) << msg;
  EXPECT_EQ(check(first, "ebpf.probe_objects")["message"].get<std::string>().find("remembered"),
            std::string::npos);
}

// cnmctl carries the probe's objects: in a chroot that holds nothing but cnmctl (static), with
// the kernel's /proc and /sys, the preflight still loads them and reports every program.
TEST_F(LivePreflight, AChrootWithNoObjectsOnDiskStillGetsVerifierResults) {
  test::TempDir root;
  std::filesystem::copy_file(test::cnmctl(), root / "cnmctl");
  const auto r =
      test::run({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                 "mkdir -p \"$0/proc\" \"$0/sys\" && mount --bind /proc \"$0/proc\" && "
                 "mount --rbind /sys \"$0/sys\" && exec chroot \"$0\" /cnmctl preflight --json",
                 root.path().string()});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err << r.out;
  const auto on_disk = test::run({"find", root.path().string(), "-xdev", "-name", "*.bpf.o"});
  EXPECT_EQ(on_disk.out, "") << "the chroot holds BPF objects";
  const auto j = json::parse(r.out);
  const auto c = check(j, "ebpf.probe_objects");
  EXPECT_EQ(c["status"], "pass") << c.dump();
  const std::string msg = c["message"];
  for (const char* prog : {"tcp_tracer.bpf.o:set_state_btf", "tcp_tracer.bpf.o:tcp_retransmit_skb",
                           "dns_filter.bpf.o:dns_filter", "dns_tap.bpf.o:dns_tap_egress",
                           "dns_tap.bpf.o:dns_tap_ingress"})
    EXPECT_NE(msg.find(prog), std::string::npos) << prog << " in " << msg;
  EXPECT_NE(msg.find("[objects embedded in cnmctl"), std::string::npos) << msg;
  EXPECT_EQ(j["features"]["probe_rung"], "tp_btf");
}

}  // namespace
}  // namespace cnm
