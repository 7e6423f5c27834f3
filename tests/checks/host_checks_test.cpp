// The checks beyond kernel and distribution, each on a host folder built for the case.
#include <gtest/gtest.h>
#include <linux/btf.h>
#include <sys/stat.h>

#include <cstring>

#include "checks/host_facts.h"
#include "checks/kernel_code.h"
#include "checks/kernel_config.h"
#include "checks/tracepoints.h"
#include "probe/btf_archive.h"
#include "probe/embedded_files.h"
#include "tests/checks/host_builder.h"
#include "tests/support/tar_writer.h"

namespace cnm {
namespace {

using test::find_check;
using test::HostBuilder;
using test::status_of;

// The options that judge cnm-probe (standalone); HostBuilder's default is the Agent's probe.
PreflightOptions cnm_probe() {
  PreflightOptions o;
  o.layout = default_layout("/", ProbeMode::Standalone);
  return o;
}

TEST(HostChecks, TenMegabyteOsReleaseIsReadInPartAndNamed) {
  HostBuilder h;
  std::string big = "ID=ubuntu\nVERSION_ID=\"20.04\"\n" + std::string(10 * 1024 * 1024, 'A');
  h.file("/etc/os-release", big).kernel("5.4.0-150-generic");
  const auto r = h.run();
  EXPECT_TRUE(r.supported);
  EXPECT_EQ(r.distro_id, "ubuntu");
  // The note follows the verdict's sentence, not the middle of it.
  EXPECT_EQ(test::find_check(r, "distro.supported").message,
            "ubuntu 20.04 (from /etc/os-release) is supported (Ubuntu 16.04+); /etc/os-release is "
            "larger than 64 KiB: only its start was read; /etc/os-release: ignored 1 malformed "
            "line(s)");
}

// A 3.10 kernel on CentOS 7 without Red Hat's build number: the message says the build is
// missing and what to check, not a comparison with a number it does not have.
TEST(HostChecks, CentosSevenKernelWithoutBuildNumberSaysWhatToCheck) {
  HostBuilder h;
  h.file("/etc/os-release", "ID=\"centos\"\nVERSION_ID=\"7\"\n")
      .file("/etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n")
      .kernel("3.10.108");
  const auto r = h.run();
  EXPECT_EQ(status_of(r, "kernel.version"), "fail");
  const auto c = find_check(r, "kernel.version");
  EXPECT_NE(c.message.find("3.10.108"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("without a Red Hat build number"), std::string::npos) << c.message;
  EXPECT_EQ(c.message.find("< 957"), std::string::npos) << c.message;
  EXPECT_NE(c.remedy.find("uname -r"), std::string::npos) << c.remedy;
  // With a build number the comparison stays.
  h.kernel("3.10.0-862.el7.x86_64");
  const auto r2 = h.run();
  EXPECT_EQ(status_of(r2, "kernel.version"), "fail");
  const auto old = find_check(r2, "kernel.version");
  EXPECT_NE(old.message.find("(build 862 < 957)"), std::string::npos) << old.message;
}

// Ubuntu kernels built on 4.4.114 to 4.4.127, where the Datadog Agent refuses eBPF (a known
// panic): the upstream version comes from /proc/version_signature where it describes the
// release judged, else from the release's own numbers; Ubuntu's 4.4.0-N alone cannot tell.
TEST(HostChecks, UbuntuKernelsWhereEbpfPanicsFailTheKernelCheck) {
  const auto judge = [](const std::string& release, const std::string& signature,
                        const std::string& id = "ubuntu") {
    HostBuilder h;
    h.file("/etc/os-release", "ID=" + id + "\nVERSION_ID=\"16.04\"\n").kernel(release);
    if (!signature.empty()) h.file("/proc/version_signature", signature);
    return find_check(h.run(), "kernel.version");
  };
  const auto bad = judge("4.4.0-119-generic", "Ubuntu 4.4.0-119.143-generic 4.4.114\n");
  EXPECT_EQ(bad.status, Status::Fail);
  EXPECT_NE(bad.message.find("built on Linux 4.4.114"), std::string::npos) << bad.message;
  EXPECT_NE(bad.message.find("1763454"), std::string::npos) << bad.message;
  EXPECT_NE(bad.remedy.find("reboot"), std::string::npos) << bad.remedy;
  EXPECT_EQ(judge("4.4.0-127-lowlatency", "Ubuntu 4.4.0-127.153-lowlatency 4.4.127").status,
            Status::Fail);
  EXPECT_EQ(judge("4.4.0-128-generic", "Ubuntu 4.4.0-128.154-generic 4.4.128").status,
            Status::Pass);
  EXPECT_EQ(judge("4.4.0-116-generic", "Ubuntu 4.4.0-116.140-generic 4.4.98").status, Status::Pass);
  // The signature of the running kernel says nothing of another release (--kernel-release).
  EXPECT_EQ(judge("4.4.0-210-generic", "Ubuntu 4.4.0-119.143-generic 4.4.114").status,
            Status::Pass);
  EXPECT_EQ(judge("4.4.0-119-lowlatency", "Ubuntu 4.4.0-119.143-generic 4.4.114").status,
            Status::Pass);
  EXPECT_EQ(judge("4.4.0-119-generic", "").status, Status::Pass) << "unknown upstream";
  EXPECT_EQ(judge("4.4.120", "").status, Status::Fail) << "a mainline build on Ubuntu";
  EXPECT_EQ(judge("4.4.120", "", "debian").status, Status::Pass) << "the Agent checks Ubuntu";
  // Ubuntu's kernel under another distribution (Linux Mint 18 boots 16.04's): the same kernel.
  EXPECT_EQ(judge("4.4.0-119-generic", "Ubuntu 4.4.0-119.143-generic 4.4.114", "linuxmint").status,
            Status::Fail);
}

TEST(HostChecks, UsrLibOsReleaseLsbReleaseAndDebianVersionAreFallbacks) {
  HostBuilder a;
  a.file("/usr/lib/os-release", "ID=fedora\nVERSION_ID=38\n").kernel("6.5.6-300.fc39.x86_64");
  EXPECT_EQ(a.run().distro_id, "fedora");
  HostBuilder b;
  b.file("/etc/lsb-release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=16.04\n")
      .kernel("4.4.0-1-generic");
  const auto rb = b.run();
  EXPECT_EQ(rb.distro_id, "ubuntu");
  EXPECT_EQ(status_of(rb, "distro.supported"), "pass");
  HostBuilder c;
  c.file("/etc/debian_version", "8.11\n").kernel("3.16.0-6-amd64");
  const auto rc = c.run();
  EXPECT_EQ(rc.distro_version, "8.11");
  EXPECT_EQ(status_of(rc, "distro.supported"), "fail");
}

TEST(HostChecks, LockdownConfidentialityMakesTheHostUnsupported) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/sys/kernel/security/lockdown", "none integrity [confidentiality]\n");
  const auto r = h.run();
  EXPECT_EQ(status_of(r, "kernel.lockdown"), "fail");
  EXPECT_FALSE(r.supported);
  HostBuilder i;
  i.debian()
      .kernel("6.1.0-13-amd64")
      .file("/sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
  EXPECT_EQ(status_of(i.run(), "kernel.lockdown"), "pass");
}

// Lockdown never fails open: a lockdown file that cannot be read (a FIFO, a folder) is "cannot
// tell" (warn), not "not active"; a securityfs without the file is off; a root that does not
// describe securityfs is not judged.
TEST(HostChecks, LockdownThatCannotBeReadIsCannotTellNotInactive) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  std::filesystem::create_directories(h.root() / "sys/kernel/security");
  ASSERT_EQ(::mkfifo((h.root() / "sys/kernel/security/lockdown").c_str(), 0644), 0);
  auto c = find_check(h.run(), "kernel.lockdown");
  EXPECT_EQ(std::string(to_string(c.status)), "warn") << c.message;
  EXPECT_NE(c.message.find("cannot tell"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("FIFO"), std::string::npos) << c.message;
  std::filesystem::remove(h.root() / "sys/kernel/security/lockdown");
  std::filesystem::create_directories(h.root() / "sys/kernel/security/lockdown");
  EXPECT_EQ(status_of(h.run(), "kernel.lockdown"), "warn");
  std::filesystem::remove(h.root() / "sys/kernel/security/lockdown");
  EXPECT_EQ(status_of(h.run(), "kernel.lockdown"), "skip");  // empty: securityfs not described
  h.file("/sys/kernel/security/apparmor/profiles", "");
  c = find_check(h.run(), "kernel.lockdown");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("not active"), std::string::npos) << c.message;
}

TEST(HostChecks, MountsAreReadFromTheMountTableWithEscapes) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/proc/self/mountinfo",
         "22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
         "23 22 0:7 / /sys/kernel/debug rw shared:12 - debugfs debugfs rw\n"
         "24 22 0:26 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
         "25 1 0:40 / /mnt/with\\040space rw - tmpfs weird rw\n");
  const auto r = h.run();
  EXPECT_EQ(status_of(r, "mounts.debugfs"), "pass");
  // Linux 4.1+ mounts tracefs at debugfs's tracing folder on first use.
  EXPECT_EQ(status_of(r, "mounts.tracefs"), "pass");
  EXPECT_EQ(status_of(r, "mounts.bpffs"), "warn");
  EXPECT_EQ(status_of(r, "mounts.cgroup2"), "pass");
  EXPECT_TRUE(r.supported);  // missing mounts cost features, not the verdict
  HostBuilder none;
  none.debian().kernel("6.1.0-13-amd64");
  EXPECT_EQ(status_of(none.run(), "mounts.debugfs"), "skip");
}

// The advice fits the kernel: before Linux 4.1 tracing is debugfs's folder (RHEL/CentOS 7's
// 3.10: `mount -t tracefs` fails there), and before 4.5 there is no cgroup2 to mount.
TEST(HostChecks, TracingAndCgroupAdviceFitsTheKernel) {
  const std::string sysfs = "22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n";
  const std::string debugfs = "23 22 0:7 / /sys/kernel/debug rw shared:12 - debugfs debugfs rw\n";
  const auto run = [&](const std::string& kernel, const std::string& mounts) {
    HostBuilder h;
    h.file("/etc/os-release", "ID=centos\nVERSION_ID=\"7\"\n").kernel(kernel);
    h.file("/proc/self/mountinfo", mounts);
    return h.run();
  };
  const std::string el7 = "3.10.0-1160.el7.x86_64";
  auto c = find_check(run(el7, sysfs + debugfs), "mounts.tracefs");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("predates tracefs"), std::string::npos) << c.message;
  c = find_check(run(el7, sysfs), "mounts.tracefs");
  EXPECT_EQ(std::string(to_string(c.status)), "warn") << c.message;
  EXPECT_EQ(c.remedy.find("mount -t tracefs"), std::string::npos) << c.remedy;
  EXPECT_NE(c.remedy.find("mount -t debugfs"), std::string::npos) << c.remedy;
  c = find_check(run(el7, sysfs), "mounts.cgroup2");
  EXPECT_EQ(c.remedy.find("mount -t cgroup2"), std::string::npos) << c.remedy;
  EXPECT_NE(c.message.find("Linux 4.5+"), std::string::npos) << c.message;
  c = find_check(run("5.10.0-30-amd64", sysfs), "mounts.tracefs");
  EXPECT_EQ(std::string(to_string(c.status)), "warn") << c.message;
  EXPECT_NE(c.remedy.find("mount -t tracefs"), std::string::npos) << c.remedy;
  c = find_check(run("4.14.355-275.582.amzn2.x86_64", sysfs), "mounts.cgroup2");
  EXPECT_NE(c.remedy.find("mount -t cgroup2"), std::string::npos) << c.remedy;
  EXPECT_NE(c.remedy.find("systemd 230+"), std::string::npos) << c.remedy;
}

// Before the kprobe PMU (4.17) kprobes are made through tracing's kprobe_events: with tracing
// unmounted the preflight says so, not that the kernel lacks CONFIG_KPROBES.
TEST(HostChecks, KprobesWithoutTracingMountedNameTheMount) {
  HostBuilder h;
  h.file("/etc/os-release", "ID=centos\nVERSION_ID=\"7\"\n").kernel("3.10.0-1160.el7.x86_64");
  h.file("/sys/bus/event_source/devices/.keep", "");
  h.file("/sys/kernel/notes", "");
  auto c = find_check(h.run(), "ebpf.kprobes");
  EXPECT_EQ(std::string(to_string(c.status)), "warn") << c.message;
  EXPECT_NE(c.message.find("tracing is not mounted"), std::string::npos) << c.message;
  EXPECT_NE(c.remedy.find("mount -t debugfs"), std::string::npos) << c.remedy;
  h.file("/sys/kernel/debug/tracing/events/sched/.keep", "");
  c = find_check(h.run(), "ebpf.kprobes");
  EXPECT_NE(c.message.find("CONFIG_KPROBES"), std::string::npos) << c.message;
}

// Beside the Agent, its environment file can override what cnmctl writes into
// system-probe.yaml (common/agent_env.h); cnm-probe does not read that file.
TEST(HostChecks, TheAgentsEnvironmentOverridesAreNamed) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  EXPECT_EQ(status_of(h.run(), "agent.environment"), "pass");
  h.file("/etc/datadog-agent/environment", "DD_SYSTEM_PROBE_NETWORK_ENABLED=0\n");
  EXPECT_EQ(status_of(h.run(), "agent.environment"), "pass");  // no unit reads it (SysV)
  h.file("/lib/systemd/system/datadog-agent-sysprobe.service",
         "[Service]\nEnvironmentFile=-/etc/datadog-agent/environment\n");
  auto c = find_check(h.run(), "agent.environment");
  EXPECT_EQ(std::string(to_string(c.status)), "warn") << c.message;
  EXPECT_NE(c.message.find("stays off"), std::string::npos) << c.message;
  EXPECT_NE(c.remedy.find("remove DD_SYSTEM_PROBE_NETWORK_ENABLED"), std::string::npos);
  EXPECT_EQ(status_of(h.run(cnm_probe()), "agent.environment"), "skip");
}

// On a SysV host the Agent's system-probe script sources /etc/default/NAME and exits without
// starting the probe where it sets DATADOG_ENABLED=no (common/agent_env.h).
TEST(HostChecks, ASysvDefaultsFileThatKeepsTheAgentsProbeOffWarns) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/etc/init.d/datadog-agent-sysprobe",
         "#!/bin/sh\nNAME=datadog-agent-sysprobe\n[ -r /etc/default/$NAME ] && . "
         "/etc/default/$NAME\n");
  h.file("/etc/default/datadog-agent-sysprobe", "DATADOG_ENABLED='yes'\n");
  EXPECT_EQ(status_of(h.run(), "agent.environment"), "pass");
  h.file("/etc/default/datadog-agent-sysprobe", "DATADOG_ENABLED='no'\n");
  const auto c = find_check(h.run(), "agent.environment");
  EXPECT_EQ(std::string(to_string(c.status)), "warn") << c.message;
  EXPECT_NE(c.message.find("/etc/default/datadog-agent-sysprobe sets DATADOG_ENABLED=no"),
            std::string::npos)
      << c.message;
  EXPECT_NE(c.remedy.find("service datadog-agent-sysprobe start"), std::string::npos) << c.remedy;
  EXPECT_EQ(status_of(h.run(cnm_probe()), "agent.environment"), "skip");
  // A tree systemd boots: its units start the probe, the script and its defaults are not read;
  // the environment file its unit reads is, and is reported.
  h.file("/lib/systemd/systemd", "");
  EXPECT_EQ(status_of(h.run(), "agent.environment"), "pass");
  h.file("/lib/systemd/system/datadog-agent-sysprobe.service",
         "[Service]\nEnvironmentFile=-/etc/datadog-agent/environment\n");
  h.file("/etc/datadog-agent/environment", "DD_SYSTEM_PROBE_NETWORK_ENABLED=false\n");
  const auto env = find_check(h.run(), "agent.environment");
  EXPECT_NE(env.message.find("DD_SYSTEM_PROBE_NETWORK_ENABLED=false"), std::string::npos)
      << env.message;
  EXPECT_EQ(env.message.find("DATADOG_ENABLED=no"), std::string::npos) << env.message;
}

// The Agent's network tracer refuses a kernel whose version code its
// system_probe_config.excluded_linux_versions lists (checks/kernel_code.h): Debian's code is the
// upstream version its /proc/version names, not the release's numbers.
TEST(HostChecks, AKernelTheAgentExcludesFailsByItsVersionCode) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/proc/version",
         "Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian "
         "12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "pass");
  const std::string yaml = "/etc/datadog-agent/system-probe.yaml";
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions: [\"6.1.0\", \"5.10.0\"]\n");
  auto c = find_check(h.run(), "agent.excluded_kernel");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("version 6.1.55, from /proc/version"), std::string::npos) << c.message;
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions:\n    - 4.19.0\n    - 6.1.55\n");
  const auto r = h.run();
  c = find_check(r, "agent.excluded_kernel");
  EXPECT_EQ(std::string(to_string(c.status)), "fail") << c.message;
  EXPECT_FALSE(r.supported);
  EXPECT_NE(
      c.remedy.find("remove 6.1.55 from system_probe_config.excluded_linux_versions in " + yaml),
      std::string::npos)
      << c.remedy;
  EXPECT_EQ(status_of(h.run(cnm_probe()), "agent.excluded_kernel"), "skip");
  // A /proc/version of another release says nothing of this one: its own numbers count.
  h.kernel("6.1.0-12-amd64");
  c = find_check(h.run(), "agent.excluded_kernel");
  EXPECT_NE(c.message.find("version 6.1.0, from the release 6.1.0-12-amd64"), std::string::npos)
      << c.message;
}

// An exclusion list's entries as the Agent's kernel.ParseVersion reads them: Go's
// Sscanf("%d.%d.%d") into bytes with its error ignored (what was read before it stays), blanks
// but no newline skipped before a number, no sign, anything after the third number ignored.
// The expected values are what Go 1.19 printed for each entry.
TEST(HostChecks, ExclusionEntriesReadAsTheAgentReadsThem) {
  const auto text = [](const std::string& e) { return parse_version_entry(e).text(); };
  EXPECT_EQ(text("5.10.237"), "5.10.237");
  EXPECT_EQ(text(" 5.10.0"), "5.10.0");
  EXPECT_EQ(text("5. 10.0"), "5.10.0");
  EXPECT_EQ(text("6.1.55-1"), "6.1.55");
  EXPECT_EQ(text("4.4.255"), "4.4.255");
  EXPECT_EQ(text("4.4.302"), "4.4.0");
  EXPECT_EQ(text("5.14.300"), "5.14.0");
  EXPECT_EQ(text("5.10"), "5.10.0");
  EXPECT_EQ(text("4.18"), "4.18.0");
  EXPECT_EQ(text("5"), "5.0.0");
  EXPECT_EQ(text("5 .10.0"), "5.0.0");
  EXPECT_EQ(text("5.+10.0"), "5.0.0");
  EXPECT_EQ(text("+5.10.0"), "0.0.0");
  EXPECT_EQ(text("\n5.10.0"), "0.0.0");
  EXPECT_EQ(text("5.10.\r\n3"), "5.10.0");
  EXPECT_EQ(text("05.010.0099"), "5.10.99");
  EXPECT_EQ(text("\u00a05.10.0"), "5.10.0");  // Go's blanks are Unicode's
  EXPECT_EQ(text("5.\u30001.2"), "5.1.2");
  EXPECT_EQ(text("\u20285.1.1"), "5.1.1");
  EXPECT_EQ(text("\u00855.1.1"), "5.1.1");
  EXPECT_EQ(text("\v\f5.1.1"), "5.1.1");
  EXPECT_EQ(text("\u200b5.1.1"), "0.0.0");  // a zero-width space is no blank
  EXPECT_EQ(text("\xc2"
                 "5.1.1"),
            "0.0.0");
  EXPECT_EQ(text("v5.10.0"), "0.0.0");
  EXPECT_EQ(text(""), "0.0.0");
  EXPECT_TRUE(parse_version_entry("x").is_zero());
}

// Where the Agent's system-probe takes the list from: its Fleet Automation policy, then the
// variable bound to the key (its environment file over its unit's Environment=), then
// system-probe.yaml, where a string is split on blanks.
TEST(HostChecks, TheExcludedKernelsComeFromWhereTheAgentReadsThem) {
  HostBuilder h;
  h.debian().kernel("5.10.0-46-amd64");
  h.file("/proc/version", "Linux version 5.10.0-46-amd64 (x) #1 SMP Debian 5.10.237-1 (y)\n");
  h.file("/etc/datadog-agent/system-probe.yaml",
         "system_probe_config.excluded_linux_versions: 4.9.0 5.10.237\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "fail");
  const std::string unit = "/lib/systemd/system/datadog-agent-sysprobe.service";
  h.file(unit,
         "[Service]\nEnvironment=\"DD_SYSTEM_PROBE_CONFIG_EXCLUDED_LINUX_VERSIONS=5.10.236 "
         "5.10.238\"\nEnvironmentFile=-/etc/datadog-agent/environment\n");
  auto c = find_check(h.run(), "agent.excluded_kernel");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("DD_SYSTEM_PROBE_CONFIG_EXCLUDED_LINUX_VERSIONS in the Environment= "
                           "of datadog-agent-sysprobe.service lists 5.10.236 5.10.238"),
            std::string::npos)
      << c.message;
  h.file("/etc/datadog-agent/environment",
         "DD_SYSTEM_PROBE_CONFIG_EXCLUDED_LINUX_VERSIONS=\"5.10.237\"\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "fail");
  h.file("/etc/datadog-agent/environment",
         "DD_FLEET_POLICIES_DIR=/etc/datadog-agent/managed/datadog-agent/stable\n"
         "DD_SYSTEM_PROBE_CONFIG_EXCLUDED_LINUX_VERSIONS=5.10.237\n");
  h.file("/etc/datadog-agent/managed/datadog-agent/stable/system-probe.yaml",
         "system_probe_config:\n  excluded_linux_versions: []\n");
  c = find_check(h.run(), "agent.excluded_kernel");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("excludes no kernel"), std::string::npos) << c.message;
}

// The stable series that clamped their sublevel early: Debian 10's 4.19.232 is 4.19.255 to the
// kernel (commit a256aac5b700) and so to the Agent.
TEST(HostChecks, AnEarlyClampedStableKernelIsJudgedByItsClampedCode) {
  HostBuilder h;
  h.debian("10").kernel("4.19.0-20-amd64");
  h.file("/proc/version", "Linux version 4.19.0-20-amd64 (x) #1 SMP Debian 4.19.232-1 (y)\n");
  h.file("/etc/datadog-agent/system-probe.yaml",
         "system_probe_config:\n  excluded_linux_versions: [4.19.232]\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "pass");
  h.file("/etc/datadog-agent/system-probe.yaml",
         "system_probe_config:\n  excluded_linux_versions: [4.19.255]\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "fail");
}

// YAML reads a plain 5.10 as the number 5.1, and the Agent prints it back as "5.1" before
// ParseVersion reads it: 5.1.0. Quoted, it stays "5.10": 5.10.0.
TEST(HostChecks, APlainNumberInTheListIsReadAsTheAgentReadsIt) {
  HostBuilder h;
  h.debian().kernel("5.10.0-custom");
  const std::string yaml = "/etc/datadog-agent/system-probe.yaml";
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions: [5.10]\n");
  auto c = find_check(h.run(), "agent.excluded_kernel");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("lists 5.1, not this kernel"), std::string::npos) << c.message;
  h.kernel("5.1.0-custom");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "fail");
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions: [\"5.10\"]\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "pass");
  h.kernel("5.10.0-custom");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "fail");
  // A number alone is no list to the Agent (cast refuses it): nothing excluded.
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions: 5.10\n");
  EXPECT_NE(find_check(h.run(), "agent.excluded_kernel").message.find("excludes no kernel"),
            std::string::npos);
}

// An Ubuntu x.y.0 release without /proc/version_signature does not say its upstream version:
// whether the Agent's list names it cannot be told there, and the check says so. Its signature
// does; the version code caps the sublevel at 255, as the Agent's reading of an entry does.
TEST(HostChecks, AnUbuntuKernelOfUnknownVersionCodeWarns) {
  HostBuilder h;
  h.file("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"16.04\"\n").kernel("4.4.0-210-generic");
  const std::string yaml = "/etc/datadog-agent/system-probe.yaml";
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions: [4.4.302]\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "warn");
  h.file("/proc/version_signature", "Ubuntu 4.4.0-210.242-generic 4.4.302\n");
  const auto c = find_check(h.run(), "agent.excluded_kernel");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("version 4.4.255"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("the Agent reads '4.4.302' as 4.4.0"), std::string::npos) << c.message;
  h.file(yaml, "system_probe_config:\n  excluded_linux_versions: [4.4.255]\n");
  EXPECT_EQ(status_of(h.run(), "agent.excluded_kernel"), "fail");
}

// A container's view: cgroup2 bind-mounted from a subtree of the hierarchy. The probe needs the
// hierarchy's root (it attaches the DNS programs there), so the check says what it found.
TEST(HostChecks, Cgroup2MountedOnlyAsASubtreeWarns) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/proc/self/mountinfo",
         "22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
         "24 22 0:26 /system.slice/x.scope /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  const auto r = h.run();
  EXPECT_EQ(status_of(r, "mounts.cgroup2"), "warn");
  EXPECT_NE(
      find_check(r, "mounts.cgroup2").message.find("only as its subtree /system.slice/x.scope"),
      std::string::npos);
}

// A Debian 12 host description with SELinux enforcing (targeted policy).
void enforcing_selinux(HostBuilder& h) {
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/sys/fs/selinux/enforce", "1");
  h.file("/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
}

TEST(HostChecks, SelinuxEnforcingWithoutOurModuleWarnsWithTheInstallCommand) {
  HostBuilder h;
  enforcing_selinux(h);
  h.file("/var/lib/selinux/targeted/active/modules/100/base/cil", "x");
  auto r = h.run();
  const auto c = test::find_check(r, "security.selinux");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.remedy.find("cnmctl selinux install"), std::string::npos);
  h.file("/var/lib/selinux/targeted/active/modules/400/system_probe_policy/cil", "x");
  EXPECT_EQ(status_of(h.run(), "security.selinux"), "pass");
}

// A semanage.conf libsemanage refuses (here an empty store-root) makes `cnmctl selinux install`
// refuse the host: the check says so and how to fix it, not only "run the install".
TEST(HostChecks, SelinuxStoreThatCannotBeUsedIsNamedWithItsFix) {
  HostBuilder h;
  enforcing_selinux(h);
  h.file("/etc/selinux/semanage.conf", "store-root =\n");
  const auto c = test::find_check(h.run(), "security.selinux");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.message.find("module cannot be installed: "), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("semanage.conf: store-root has no value"), std::string::npos)
      << c.message;
  EXPECT_NE(c.remedy.find("fix the file the message names (/etc/selinux/semanage.conf"),
            std::string::npos)
      << c.remedy;
  // A policy type that names no policy: the message names /etc/selinux/config instead.
  h.file("/etc/selinux/semanage.conf", "");
  h.file("/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=../x\n");
  const auto t = test::find_check(h.run(), "security.selinux");
  EXPECT_NE(t.message.find("/etc/selinux/config"), std::string::npos) << t.message;
  EXPECT_NE(t.remedy.find("/etc/selinux/config: a policy name in SELINUXTYPE="), std::string::npos)
      << t.remedy;
}

// Off in the running kernel, configured enforcing for the next boot: the same store problem is
// named, with the install that puts the module in place for that boot.
TEST(HostChecks, SelinuxForTheNextBootNamesTheStoreProblem) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/sys/kernel/notes", "");
  h.file("/etc/selinux/config", "SELINUX=enforcing\nSELINUXTYPE=targeted\n");
  h.file("/etc/selinux/semanage.conf", "store-root =\n");
  const auto c = test::find_check(h.run(), "security.selinux");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.message.find("sets 'enforcing' for a boot with SELinux on and the "
                           "system_probe_policy module cannot be installed: "),
            std::string::npos)
      << c.message;
  EXPECT_NE(c.message.find("denied after that boot"), std::string::npos) << c.message;
  EXPECT_NE(
      c.remedy.find("then cnmctl selinux install  (installs system_probe_policy for that boot)"),
      std::string::npos)
      << c.remedy;
  // Permissive at that boot: as permissive now, nothing is denied.
  h.file("/etc/selinux/config", "SELINUX=permissive\nSELINUXTYPE=targeted\n");
  const auto p = test::find_check(h.run(), "security.selinux");
  EXPECT_EQ(std::string(to_string(p.status)), "pass");
  EXPECT_NE(p.message.find("denials would be logged, not enforced"), std::string::npos)
      << p.message;
  // Configured off: nothing to say.
  h.file("/etc/selinux/config", "SELINUX=disabled\nSELINUXTYPE=targeted\n");
  EXPECT_EQ(test::find_check(h.run(), "security.selinux").message, "SELinux is disabled");
}

// Hand-edited configurations are judged by what the host will boot with (libselinux's reading),
// not by shell syntax: capitals and a blank after '=' still enforce, and a line appended below
// the first mode does not change it.
TEST(HostChecks, SelinuxForTheNextBootIsReadAsTheHostBoots) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/sys/kernel/notes", "");
  for (const std::string config :
       {"SELINUX=Enforcing\nSELINUXTYPE=targeted\n", "SELINUX= enforcing\nSELINUXTYPE= targeted\n",
        "SELINUX=enforcing\nSELINUXTYPE=targeted\nSELINUX=disabled\n"}) {
    h.file("/etc/selinux/config", config);
    const auto c = test::find_check(h.run(), "security.selinux");
    EXPECT_EQ(std::string(to_string(c.status)), "warn") << config;
    EXPECT_NE(c.message.find("sets 'enforcing' for a boot with SELinux on"), std::string::npos)
        << config << c.message;
  }
}

TEST(HostChecks, AppArmorProfileOnTheProbeWarns) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/sys/module/apparmor/parameters/enabled", "Y\n");
  h.file("/sys/kernel/security/apparmor/profiles", "docker-default (enforce)\n");
  EXPECT_EQ(status_of(h.run(), "security.apparmor"), "pass");
  h.file("/sys/kernel/security/apparmor/profiles",
         "docker-default (enforce)\n/opt/datadog-agent/embedded/bin/system-probe (enforce)\n");
  EXPECT_EQ(status_of(h.run(), "security.apparmor"), "warn");
}

TEST(HostChecks, ContainerWithoutHostMountsWarnsWithDockerFlags) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/proc/self/cgroup", "0::/kubepods/burstable/pod1/abc\n");
  const auto r = h.run();
  EXPECT_TRUE(r.in_container);
  const auto c = test::find_check(r, "container.host_access");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.remedy.find("/host/proc"), std::string::npos);
  EXPECT_NE(c.remedy.find("--pid host"), std::string::npos);

  HostBuilder ok;
  ok.debian().kernel("6.1.0-13-amd64").file("/run/.containerenv", "");
  ok.file("/host/proc/1/comm", "systemd\n")
      .file("/sys/fs/cgroup/x", "")
      .file("/sys/kernel/debug/x", "");
  ok.file("/proc/2/status", "Name:\tkthreadd\nPPid:\t0\n");
  EXPECT_EQ(status_of(ok.run(), "container.host_access"), "pass");
}

TEST(HostChecks, DockerenvAloneOnABlockDeviceRootIsNotAContainer) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64").file("/.dockerenv", "");
  h.file("/proc/self/mountinfo", "25 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n");
  EXPECT_FALSE(h.run().in_container);
  h.file("/proc/self/mountinfo", "25 1 0:40 / / rw,relatime - overlay overlay rw,lowerdir=/l\n");
  EXPECT_TRUE(h.run().in_container);
}

TEST(HostChecks, AgentVersionGatesFromDpkgManifestAndFlag) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/var/lib/dpkg/info/datadog-agent.list", "/.\n");
  h.file("/var/lib/dpkg/status",
         "Package: bash\nStatus: install ok installed\nVersion: 5.2-2\n\n"
         "Package: datadog-agent\nStatus: install ok installed\nVersion: 1:7.20.2-1\n\n");
  auto r = h.run();
  const auto c = test::find_check(r, "agent.version");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.message.find("7.20.2"), std::string::npos);
  EXPECT_NE(c.message.find("system_probe_config"), std::string::npos);
  EXPECT_FALSE(r.features.tcp_failed_connections);
  EXPECT_TRUE(r.supported);

  PreflightOptions o;
  o.agent_version = "7.60.0";
  r = h.run(o);  // the flag wins over dpkg
  EXPECT_EQ(status_of(r, "agent.version"), "pass");
  EXPECT_TRUE(r.features.tcp_failed_connections);

  o.agent_version = "6.17.0";
  r = h.run(o);
  EXPECT_NE(test::find_check(r, "agent.version").message.find("not started by the agent"),
            std::string::npos);
  o.agent_version = "6.13.0";
  EXPECT_NE(test::find_check(h.run(o), "agent.version").message.find("live process"),
            std::string::npos);
  o.agent_version = "7.17.9";
  EXPECT_NE(test::find_check(h.run(o), "agent.version").message.find("not started by the agent"),
            std::string::npos);
  o.agent_version = "7.18.0";
  EXPECT_EQ(test::find_check(h.run(o), "agent.version").message.find("not started by the agent"),
            std::string::npos);
  o.agent_version = "not-a-version";
  EXPECT_EQ(status_of(h.run(o), "agent.version"), "warn");

  HostBuilder m;
  m.debian().kernel("6.1.0-13-amd64");
  m.file("/opt/datadog-agent/version-manifest.json", R"({"build_version": "7.59.0-1"})");
  EXPECT_EQ(status_of(m.run(), "agent.version"), "pass");
  m.file("/opt/datadog-agent/version-manifest.json", "{broken");
  EXPECT_EQ(status_of(m.run(), "agent.version"), "warn");
}

TEST(HostChecks, SixXAgentsUseTheLockstepGates) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  PreflightOptions o;
  o.agent_version = "6.30.0";
  const auto c = test::find_check(h.run(o), "agent.version");
  EXPECT_EQ(c.message.find("system_probe_config"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("under-reported"), std::string::npos) << c.message;
  h.file("/var/lib/dpkg/info/datadog-agent.list", "/.\n");
  h.file("/var/lib/dpkg/status",
         "Package: datadog-agent\nStatus: hold ok installed\nVersion: 1:6.20.0-1\n");
  const auto held = test::find_check(h.run(), "agent.version");
  EXPECT_NE(held.message.find("6.20.0"), std::string::npos) << held.message;
  EXPECT_NE(held.message.find("system_probe_config"), std::string::npos) << held.message;
}

TEST(HostChecks, IstioNeedsAgent7241) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64").file("/usr/local/bin/istioctl", "");
  PreflightOptions o;
  o.agent_version = "7.23.0";
  const auto c = test::find_check(h.run(o), "istio.compatible");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.message.find("7.24.1"), std::string::npos);
}

std::string fake_btf(const std::vector<std::string>& names) {
  std::string strings(1, '\0');
  for (const auto& n : names) strings += n + '\0';
  btf_header h{};
  h.magic = BTF_MAGIC;
  h.version = 1;
  h.hdr_len = sizeof h;
  h.str_off = 0;
  h.str_len = static_cast<__u32>(strings.size());
  std::string blob(sizeof h, '\0');
  std::memcpy(blob.data(), &h, sizeof h);
  return blob + strings;
}

// The attach points asked about are the probe's ladder's (probe/ladder.h): no list here.
TEST(HostChecks, TracepointsFromTracefsOrFromBtfAndKprobesFromThePmu) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  h.file("/sys/kernel/btf/vmlinux", fake_btf({"btf_trace_inet_sock_set_state", "tcp_sock"}));
  auto r = h.run();
  const auto& tp = test::find_check(r, "ebpf.tracepoints");
  EXPECT_EQ(std::string(to_string(tp.status)), "warn");  // only the core one is present
  EXPECT_NE(tp.message.find("vmlinux BTF"), std::string::npos);
  // Missing, with the rungs and jobs that need it.
  EXPECT_NE(tp.message.find("tcp/tcp_retransmit_skb (tp_btf: retransmits, raw_tp: retransmits, "
                            "raw_tp_perf: retransmits)"),
            std::string::npos)
      << tp.message;
  EXPECT_EQ(status_of(r, "ebpf.btf"), "pass");

  // The per-call hooks' tracepoints (Linux 6.4+) are opt-in: without them, all else present
  // passes and says what is not there. Tracepoints the probe never uses are not asked about.
  HostBuilder o;
  o.debian().kernel("5.15.0-1-amd64");
  o.file("/sys/kernel/btf/vmlinux",
         fake_btf({"btf_trace_inet_sock_set_state", "btf_trace_tcp_retransmit_skb"}));
  r = o.run();
  const auto& otp = test::find_check(r, "ebpf.tracepoints");
  EXPECT_EQ(std::string(to_string(otp.status)), "pass") << otp.message;
  EXPECT_NE(otp.message.find("opt-in, not on this kernel: sock/sock_send_length"),
            std::string::npos)
      << otp.message;
  EXPECT_EQ(otp.message.find("tcp_probe"), std::string::npos) << otp.message;

  // tracefs wins when mounted; a missing core tracepoint and no kprobes is a warning under
  // --root (only the live host can prove the probe impossible).
  HostBuilder t;
  t.debian().kernel("4.14.0-1-amd64");
  t.file("/sys/kernel/tracing/events/tcp/tcp_retransmit_skb/id", "1\n");
  t.file("/sys/bus/event_source/devices/software/type", "1\n");
  r = t.run();
  EXPECT_NE(test::find_check(r, "ebpf.tracepoints").message.find("nothing to attach"),
            std::string::npos);
  EXPECT_EQ(status_of(r, "ebpf.tracepoints"), "warn");
  EXPECT_EQ(status_of(r, "ebpf.kprobes"), "warn");
  t.file("/sys/bus/event_source/devices/kprobe/type", "6\n");
  r = t.run();
  EXPECT_EQ(status_of(r, "ebpf.kprobes"), "pass");
  EXPECT_NE(test::find_check(r, "ebpf.kprobes").message.find("kprobe PMU"), std::string::npos);
  EXPECT_NE(test::find_check(r, "ebpf.tracepoints").message.find("uses its kprobe rung"),
            std::string::npos);
  // The legacy interface (tracefs kprobe_events, before the PMU of 4.17) counts too.
  HostBuilder l;
  l.debian().kernel("4.14.0-1-amd64");
  l.file("/sys/kernel/tracing/events/tcp/tcp_retransmit_skb/id", "1\n");
  l.file("/sys/kernel/tracing/kprobe_events", "");
  r = l.run();
  EXPECT_EQ(status_of(r, "ebpf.kprobes"), "pass");
  EXPECT_NE(test::find_check(r, "ebpf.kprobes").message.find("tracefs kprobe_events"),
            std::string::npos);
}

// No kernel BTF: the probe relocates with a BTF file for the release, the one the binary carries
// (probe/btf/make_btfs.sh) or one in the BTF folder; with neither it says so.
TEST(HostChecks, WithoutKernelBtfABtfFileIsLookedForAndItsAbsenceSaid) {
  HostBuilder h;
  h.debian().kernel("5.4.0-150-generic").file("/sys/kernel/notes", "");
  auto c = test::find_check(h.run(cnm_probe()), "ebpf.btf");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.message.find("no BTF for kernel 5.4.0-150-generic"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("no rung runs"), std::string::npos) << c.message;
  EXPECT_NE(c.remedy.find("btf/5.4.0-150-generic.btf"), std::string::npos) << c.remedy;
  EXPECT_NE(c.remedy.find("min_core_btf"), std::string::npos) << c.remedy;
  EXPECT_NE(c.remedy.find("cnmctl install --btf-archive FILE"), std::string::npos) << c.remedy;
  // An operator's file in the layout's BTF folder.
  h.file("/opt/cnmkit/ebpf/btf/5.4.0-150-generic.btf", "x");
  c = test::find_check(h.run(cnm_probe()), "ebpf.btf");
  EXPECT_EQ(std::string(to_string(c.status)), "warn");
  EXPECT_NE(c.message.find("relocates with file "), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("tp_btf"), std::string::npos) << c.message;
  // A kernel the binary carries a file for (the build host's, at least).
  const auto carried = probe::embedded_btf_releases();
  ASSERT_FALSE(carried.empty());
  HostBuilder e;
  e.debian().kernel(std::string(carried.front())).file("/sys/kernel/notes", "");
  c = test::find_check(e.run(cnm_probe()), "ebpf.btf");
  EXPECT_NE(c.message.find("the embedded file for " + std::string(carried.front())),
            std::string::npos)
      << c.message;
  // Beside the Agent the probe is its system-probe, which brings its own BTF files, runtime
  // compilation or prebuilt objects: no BTF is no failure (checks/ladder_facts.h).
  HostBuilder a;
  a.debian().kernel("5.4.0-150-generic").file("/sys/kernel/notes", "");
  c = test::find_check(a.run(), "ebpf.btf");
  EXPECT_EQ(std::string(to_string(c.status)), "pass") << c.message;
  EXPECT_NE(c.message.find("Agent's system-probe brings its own BTF files"), std::string::npos)
      << c.message;
}

// A fleet's BTF archive (probe/btf_archive.h) for cnm-probe: the one in its layout's BTF folder,
// or the one --btf-archive names (the file `cnmctl install --btf-archive` would put there),
// gives the kernel's file; one that does not hold it says so. (Beside the Agent, whose
// system-probe has its own files, --btf-archive is never set: preflight_cli_test.cpp.)
TEST(HostChecks, WithoutKernelBtfTheBtfArchiveIsLookedIn) {
  const auto carried = probe::embedded_btf_releases();
  ASSERT_FALSE(carried.empty());
  const auto b = *probe::embedded_btf(carried.front());
  const std::string btf(reinterpret_cast<const char*>(b.data()), b.size());
  const std::string release = "3.10.0-1160.cnmtest.el7.x86_64";
  HostBuilder h;
  h.file("/etc/os-release", "ID=centos\nVERSION_ID=\"7\"\n")
      .kernel(release)
      .file("/sys/kernel/notes", "");
  PreflightOptions standalone;
  standalone.layout = default_layout("/", ProbeMode::Standalone);
  const auto folder = h.root() / "opt/cnmkit/ebpf/btf";
  std::filesystem::create_directories(folder);
  test::write_tar(folder / std::string(probe::kBtfArchiveName),
                  {{"centos/7/x86_64/" + release + ".btf", btf}}, archive_write_add_filter_xz);
  auto c = test::find_check(h.run(standalone), "ebpf.btf");
  EXPECT_NE(c.message.find("relocates with the file for " + release + " in " +
                           (folder / std::string(probe::kBtfArchiveName)).string()),
            std::string::npos)
      << c.message;
  // --btf-archive: another archive, one without this kernel, is judged instead.
  test::write_tar(h.root() / "other.tar.xz", {{"5.4.0-1-amd64.btf", btf}},
                  archive_write_add_filter_xz);
  standalone.btf_archive = h.root() / "other.tar.xz";  // a file of this machine
  c = test::find_check(h.run(standalone), "ebpf.btf");
  EXPECT_NE(c.message.find("no rung runs"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("none for " + release + " in "), std::string::npos) << c.message;
  test::write_tar(h.root() / "fleet.tar.xz", {{release + ".btf", btf}},
                  archive_write_add_filter_xz);
  standalone.btf_archive = h.root() / "fleet.tar.xz";
  c = test::find_check(h.run(standalone), "ebpf.btf");
  EXPECT_NE(c.message.find("relocates with the file for " + release), std::string::npos)
      << c.message;
  // Named, it is checked whole as the install checks it: an entry the install refuses after the
  // kernel's file, or no file at all, gives nothing, and says why.
  test::write_tar(h.root() / "fleet.tar.xz", {{release + ".btf", btf}, {"README", "x"}},
                  archive_write_add_filter_xz);
  c = test::find_check(h.run(standalone), "ebpf.btf");
  EXPECT_NE(c.message.find("'README' is not named <kernel release>.btf"), std::string::npos)
      << c.message;
  standalone.btf_archive = h.root() / "typo.tar.xz";
  c = test::find_check(h.run(standalone), "ebpf.btf");
  EXPECT_NE(c.message.find((h.root() / "typo.tar.xz").string() + " does not exist"),
            std::string::npos)
      << c.message;
}

// The BTF lookup under --root stays in the root (probe/btf_source.h): a kernel BTF link that
// loops there, a BTF folder linked out of the root, a release that climbs out of the folder.
TEST(HostChecks, BtfLookupUnderRootNeverLeavesTheRoot) {
  test::TempDir outside;
  test::write_file(outside / "5.4.0-150-generic.btf", "x");
  HostBuilder h;
  h.debian().kernel("5.4.0-150-generic").file("/sys/kernel/notes", "");
  std::filesystem::create_directories(h.root() / "sys/kernel/btf");
  std::filesystem::create_symlink("/sys/kernel/btf/vmlinux", h.root() / "sys/kernel/btf/vmlinux");
  auto c = test::find_check(h.run(cnm_probe()), "ebpf.btf");
  EXPECT_NE(c.message.find("no rung runs"), std::string::npos) << c.message;
  std::filesystem::remove(h.root() / "sys/kernel/btf/vmlinux");
  const auto folder = h.root() / "opt/cnmkit/ebpf";
  std::filesystem::create_directories(folder);
  std::filesystem::create_symlink(outside.path(), folder / "btf");
  c = test::find_check(h.run(cnm_probe()), "ebpf.btf");
  EXPECT_NE(c.message.find("no rung runs"), std::string::npos) << c.message;
  EXPECT_EQ(c.message.find("relocates with file"), std::string::npos) << c.message;
  std::filesystem::remove(folder / "btf");
  std::filesystem::create_directories(folder / "btf");
  h.kernel("../../../../../../../../../.." + outside.path().string() + "/5.4.0-150-generic");
  c = test::find_check(h.run(cnm_probe()), "ebpf.btf");
  EXPECT_EQ(c.message.find("relocates with file"), std::string::npos) << c.message;
}

// Under --root the architecture comes from the kernel release's name (RHEL's ".x86_64",
// Debian's "-amd64"), else from the root's own /bin/sh (its ELF header); a -generic kernel in
// a root with no programs stays "unknown" rather than guessed.
TEST(HostChecks, ArchUnderRootFromTheReleaseNameOrTheRootsPrograms) {
  HostBuilder d;
  d.debian("9").kernel("4.9.0-18-amd64");
  EXPECT_EQ(d.run().arch, "x86_64");
  HostBuilder a;
  a.debian("12").kernel("6.1.0-13-arm64");
  EXPECT_EQ(a.run().arch, "aarch64");
  HostBuilder u;
  u.file("/etc/os-release", "ID=ubuntu\nVERSION_ID=\"18.04\"\n").kernel("4.15.0-213-generic");
  EXPECT_EQ(u.run().arch, "unknown");
  std::string elf = std::string(
                        "\x7f"
                        "ELF\x02\x01\x01",
                        7) +
                    std::string(11, '\0');
  elf += std::string("\xb7\x00", 2);  // e_machine 183, EM_AARCH64, little-endian
  elf += std::string(44, '\0');
  u.file("/usr/bin/dash", elf);
  std::filesystem::create_directories(u.root() / "bin");
  std::filesystem::create_symlink("/usr/bin/dash", u.root() / "bin/sh");
  EXPECT_EQ(u.run().arch, "aarch64");
  // A bare description (no programs): the kernel's own configuration names it.
  HostBuilder bare;
  bare.file("/etc/os-release", "ID=sles\nVERSION_ID=\"15.5\"\n")
      .kernel("5.14.21-150500.55-default");
  EXPECT_EQ(bare.run().arch, "unknown");
  bare.file("/boot/config-5.14.21-150500.55-default", "CONFIG_64BIT=y\nCONFIG_X86_64=y\n");
  EXPECT_EQ(bare.run().arch, "x86_64");
  bare.file("/boot/config-5.14.21-150500.55-default",
            "CONFIG_PPC64=y\nCONFIG_CPU_LITTLE_ENDIAN=y\n");
  EXPECT_EQ(bare.run().arch, "ppc64le");
  for (const auto& [config, arch] : std::vector<std::pair<std::string, std::string>>{
           {"CONFIG_ARM64=y\n", "aarch64"},
           {"CONFIG_ARM=y\n", "armv7l"},
           {"CONFIG_X86_32=y\n", "i686"},
           {"CONFIG_S390=y\n", "s390x"},
           {"CONFIG_RISCV=y\nCONFIG_64BIT=y\n", "riscv64"}}) {
    bare.file("/boot/config-5.14.21-150500.55-default", config);
    EXPECT_EQ(bare.run().arch, arch) << config;
  }
}

// Under --root what the root's own files prove is judged: no BTF anywhere means no rung runs
// (ebpf.rung fails, the host is unsupported); a kernel config without CONFIG_BPF_SYSCALL means
// no bpf() at all. What needs the live kernel stays a skip.
TEST(HostChecks, UnderRootTheRootsFilesCanProveTheProbeCannotRun) {
  HostBuilder h;
  h.debian().kernel("5.4.0-150-generic").file("/sys/kernel/notes", "");
  auto r = h.run(cnm_probe());
  auto c = find_check(r, "ebpf.rung");
  EXPECT_EQ(std::string(to_string(c.status)), "fail") << c.message;
  EXPECT_NE(c.message.find("from the root's files"), std::string::npos) << c.message;
  EXPECT_FALSE(r.supported);
  EXPECT_EQ(status_of(r, "ebpf.syscall"), "skip");  // no boot/config: cannot tell
  // With a BTF file for the release the rest needs the live kernel: skip, as before.
  h.file("/opt/cnmkit/ebpf/btf/5.4.0-150-generic.btf", "x");
  h.file("/sys/kernel/tracing/events/sock/inet_sock_set_state/id", "1\n");
  r = h.run(cnm_probe());
  EXPECT_EQ(status_of(r, "ebpf.rung"), "skip") << find_check(r, "ebpf.rung").message;
  h.file("/boot/config-5.4.0-150-generic", "CONFIG_BPF=y\n# CONFIG_BPF_SYSCALL is not set\n");
  r = h.run(cnm_probe());
  c = find_check(r, "ebpf.syscall");
  EXPECT_EQ(std::string(to_string(c.status)), "fail") << c.message;
  EXPECT_NE(c.message.find("CONFIG_BPF_SYSCALL unset"), std::string::npos) << c.message;
  EXPECT_FALSE(r.supported);
  h.file("/boot/config-5.4.0-150-generic", "CONFIG_BPF=y\nCONFIG_BPF_SYSCALL=y\n");
  EXPECT_EQ(status_of(h.run(cnm_probe()), "ebpf.syscall"), "skip");
}

// Without a /boot config, the root's /proc/config.gz (CONFIG_IKCONFIG_PROC) is its running
// kernel's config: read and unpacked bounded, and only for the release the root runs (not for
// another one named by --kernel-release). A cut, corrupt or oversized one proves nothing.
TEST(HostChecks, UnderRootProcConfigGzIsTheRunningKernelsConfig) {
  const auto gz = [](const std::string& text) {
    test::TempDir d;
    test::write_file(d / "c", text);
    EXPECT_EQ(test::run({"gzip", "-9", (d / "c").string()}).exit_code, 0);
    return test::read_file(d / "c.gz");
  };
  HostBuilder h;
  h.debian().kernel("6.6.30-cos").file("/sys/kernel/notes", "");
  const auto unset = gz("CONFIG_BPF=y\n# CONFIG_BPF_SYSCALL is not set\n");
  h.file("/proc/config.gz", unset);
  auto c = find_check(h.run(), "ebpf.syscall");
  EXPECT_EQ(std::string(to_string(c.status)), "fail") << c.message;
  EXPECT_NE(c.message.find("(/proc/config.gz) has CONFIG_BPF_SYSCALL unset"), std::string::npos)
      << c.message;
  // Another release than the root's running one: its config is not /proc's.
  PreflightOptions other;
  other.kernel_release = "6.6.31-cos";
  EXPECT_EQ(status_of(h.run(other), "ebpf.syscall"), "skip");
  // A /boot config for the release comes first.
  h.file("/boot/config-6.6.30-cos", "CONFIG_BPF_SYSCALL=y\n");
  EXPECT_EQ(status_of(h.run(), "ebpf.syscall"), "skip");
  std::filesystem::remove(h.root() / "boot/config-6.6.30-cos");
  // Cut short, not gzip, or unpacking past 8 MiB (a bomb of 64 MiB of newlines): nothing proven.
  for (const auto& bad : {unset.substr(0, unset.size() / 2), std::string("plain text\n"),
                          gz(std::string(64u << 20, '\n') + "# CONFIG_BPF_SYSCALL is not set\n")}) {
    h.file("/proc/config.gz", bad);
    EXPECT_EQ(status_of(h.run(), "ebpf.syscall"), "skip") << bad.size();
  }
  EXPECT_EQ(gunzip_bounded(unset, 1 << 20), "CONFIG_BPF=y\n# CONFIG_BPF_SYSCALL is not set\n");
  EXPECT_EQ(gunzip_bounded(unset, 10), std::nullopt);
  // Bytes after the stream, or a second member: not one intact stream.
  EXPECT_EQ(gunzip_bounded(unset + "junk", 1 << 20), std::nullopt);
  EXPECT_EQ(gunzip_bounded(unset + gz("CONFIG_BPF_SYSCALL=y\n"), 1 << 20), std::nullopt);
}

TEST(HostChecks, LiveOnlyChecksSkipUnderRoot) {
  HostBuilder h;
  h.debian().kernel("6.1.0-13-amd64");
  const auto r = h.run();
  for (const char* id :
       {"ebpf.syscall", "ebpf.program_types", "ebpf.map_types", "ebpf.helpers", "ebpf.rung",
        "ebpf.probe_objects", "limits.memlock", "privileges.capabilities"})
    EXPECT_EQ(status_of(r, id), "skip") << id;
}

}  // namespace
}  // namespace cnm
