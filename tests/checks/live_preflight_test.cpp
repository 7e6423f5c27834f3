// The preflight on this very host, as root, checked against independent sources of truth:
// bpftool's own feature probe, the kernel's sysfs, a tracefs mounted by the test in a private
// mount namespace, and a real BPF object with a program the verifier refuses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

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

json preflight(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {test::cnmctl(), "preflight", "--json"};
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

TEST_F(LivePreflight, KprobesAreReportedAsTheKernelHasThem) {
  // This machine's kernel has no CONFIG_KPROBES: the kprobe PMU is absent, and the preflight
  // must say so (and pass on a kernel that has them).
  const bool has = std::filesystem::exists("/sys/bus/event_source/devices/kprobe/type");
  const auto c = check(preflight(), "ebpf.kprobes");
  EXPECT_EQ(c["status"], has ? "pass" : "warn") << c.dump();
}

TEST_F(LivePreflight, ProgramMapAndHelperProbesAgreeWithBpftool) {
  const auto b = test::run({"bpftool", "feature", "probe", "kernel", "-j"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto features = json::parse(b.out);
  const auto& progs = features["program_types"];
  const auto j = preflight();
  const std::string prog_msg = check(j, "ebpf.program_types")["message"];
  auto listed_as_missing = [&](const std::string& name) {
    const auto pos = prog_msg.find("missing:");
    return pos != std::string::npos && prog_msg.find(name, pos) != std::string::npos;
  };
  EXPECT_EQ(progs["have_tracepoint_prog_type"].get<bool>(), !listed_as_missing("tracepoint"));
  EXPECT_EQ(progs["have_kprobe_prog_type"].get<bool>(), !listed_as_missing("kprobe"));
  const bool tracing = progs["have_tracing_prog_type"].get<bool>();
  EXPECT_EQ(tracing, !listed_as_missing("tracing"));
  EXPECT_EQ(check(j, "ebpf.fentry")["status"], tracing ? "pass" : "warn");
  const std::string map_msg = check(j, "ebpf.map_types")["message"];
  const bool ringbuf = features["map_types"]["have_ringbuf_map_type"].get<bool>();
  EXPECT_EQ(map_msg.find("missing: ringbuf") == std::string::npos, ringbuf) << map_msg;
}

// A tracefs of the namespace's own, whether or not the host has one mounted there already (the
// private propagation keeps the umount from reaching the host).
const std::string kFreshTracefs =
    "{ umount /sys/kernel/tracing 2>/dev/null; mount -t tracefs nodev /sys/kernel/tracing; }";

TEST_F(LivePreflight, TracefsMountedInAPrivateNamespaceIsSeenAndUsed) {
  const auto r = test::run({"unshare", "--mount", "--propagation", "private", "sh", "-c",
                            kFreshTracefs + " && exec \"$0\" preflight --json", test::cnmctl()});
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

TEST_F(LivePreflight, WithoutPrivilegesBpfIsAWarningToRerunAsRootNotAFailure) {
  const auto r =
      test::run({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", test::cnmctl(), "preflight", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const auto j = json::parse(r.out);
  const auto c = check(j, "ebpf.syscall");
  EXPECT_EQ(c["status"], "warn");
  EXPECT_NE(c["remedy"].get<std::string>().find("sudo"), std::string::npos);
  EXPECT_EQ(check(j, "ebpf.helpers")["status"], "skip");
  EXPECT_EQ(check(j, "privileges.capabilities")["status"], "warn");
}

TEST_F(LivePreflight, ProbeObjectsAreLoadedWithPerProgramVerifierResults) {
  const auto j = preflight({"--bpf-objects", CNM_TEST_BPF_DIR});
  const auto c = check(j, "ebpf.probe_objects");
  EXPECT_EQ(c["status"], "warn") << c.dump();
  const std::string msg = c["message"];
  EXPECT_NE(msg.find("1 probe program(s) refused: verifier_cases.bpf.o:refused"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("accepted: verifier_cases.bpf.o:accepted"), std::string::npos) << msg;
  // The verifier's own words reach the operator.
  EXPECT_NE(msg.find("invalid"), std::string::npos) << msg;
  EXPECT_EQ(j["verdict"], "supported");
}

}  // namespace
}  // namespace cnm
