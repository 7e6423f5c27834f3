// A real SysV host: the cached Debian 12 root (tests/installer/nspawn/make_root.sh) under a
// throwaway overlay, entered with unshare (private mount and PID namespaces) and chroot instead
// of booting systemd. Nothing runs systemd there (/run is a fresh tmpfs), so `cnmctl install`
// with --service-manager auto must pick sysv and drive the real `service` and update-rc.d.
// Two scenarios (tests/installer/sysv/):
//   standalone  cnm-probe's own init script, with start-stop-daemon and /lib/lsb/init-functions
//               taken away (RHEL-family SysV hosts have neither; no such userland is available
//               here): started, linked for boot, /health answered, known as the probe after
//               its binary is replaced and restarted, a rerun changes nothing, uninstall stops
//               it and removes links, script and files
//   agent       the stand-in Datadog Agent 7.17 (tests/support/agent_package.h), which does not
//               start its system-probe: cnmctl enables and starts the package's own script,
//               restarts the Agent (counting its starts), and changes no file of the package
// Needs root (overlay mount, namespaces, BPF): without it the test fails, it never skips.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/agent_package.h"
#include "tests/support/debian_root.h"

namespace cnm {
namespace {

using test::json_file;
using test::trimmed;

// Pids of the processes whose root directory is `root` (chrooted there).
std::vector<pid_t> rooted_at(const std::filesystem::path& root) {
  std::vector<pid_t> out;
  struct stat want {};
  if (::stat(root.c_str(), &want) != 0) return out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    if (::stat((e.path() / "root").c_str(), &st) == 0 && st.st_dev == want.st_dev &&
        st.st_ino == want.st_ino)
      out.push_back(static_cast<pid_t>(std::stoi(name)));
  }
  return out;
}

// Kills every process still chrooted in the overlay when the test ends, whatever failed (the
// PID namespace already takes them down with its PID 1; this covers a run that hung).
struct KillRooted {
  std::filesystem::path root;
  ~KillRooted() {
    for (int i = 0; i < 50; ++i) {
      const auto pids = rooted_at(root);
      if (pids.empty()) return;
      for (const pid_t p : pids) ::kill(p, SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
};

// Runs `script` in the overlay as enter.sh does; fails the test when it did not finish.
void enter(const test::DebianRootOverlay& host, const std::string& script) {
  const auto here = test::source_dir() / "tests/installer";
  const auto& root = host.root();
  std::filesystem::copy_file(here / "sysv" / script, root / "usr/local/sbin/cnmkit-sysv-test",
                             std::filesystem::copy_options::overwrite_existing);
  const auto r =
      test::run({"timeout", "120", "unshare", "--mount", "--pid", "--fork", "--kill-child",
                 "--propagation", "private", "bash", (here / "sysv/enter.sh").string(),
                 root.string(), host.results().string()});
  ASSERT_TRUE(std::filesystem::exists(host.results() / "finished"))
      << "exit " << r.exit_code << "\n"
      << r.out << r.err << test::read_file(host.results() / "log.txt");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(rooted_at(root).empty()) << "processes outlived the PID namespace";
}

std::string result(const std::filesystem::path& results, const std::string& name) {
  return trimmed(test::read_file(results / name));
}

TEST(SysvHost, StandaloneProbeStartsWithServiceAndUpdateRcD) {
  ASSERT_EQ(::geteuid(), 0u) << "this test mounts an overlay, enters namespaces and loads eBPF: "
                                "run it as root";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  const KillRooted killer{host.root()};  // destroyed first: nothing runs when it unmounts
  enter(host, "standalone.sh");
  const auto& results = host.results();
  const auto log = test::read_file(results / "log.txt");
  EXPECT_NE(test::read_file(results / "run-systemd.txt").find("No such file"), std::string::npos)
      << "systemd looks like it runs in the chroot";
  EXPECT_EQ(result(results, "dpkg.rc"), "0") << log;

  // The refused config rolled back without rollback errors: nothing installed, not enabled.
  EXPECT_EQ(result(results, "bad.rc"), "1") << test::read_file(results / "bad.json");
  const auto bad = json_file(results / "bad.json");
  EXPECT_TRUE(bad.value("rolled_back", false)) << bad.dump(2);
  EXPECT_FALSE(bad.contains("rollback_errors")) << bad.dump(2);
  const auto after_bad = test::read_file(results / "after-bad.txt");
  for (const char* gone : {"/etc/init.d/cnm-probe': No such file",
                           "system-probe.yaml': No such file", "S01cnm-probe': No such file"})
    EXPECT_NE(after_bad.find(gone), std::string::npos) << gone << "\n" << after_bad;

  const auto probe_log = test::read_file(results / "probe-log.txt");
  EXPECT_EQ(result(results, "install.rc"), "0")
      << test::read_file(results / "install.json") << log << probe_log;
  const auto first = json_file(results / "install.json");
  EXPECT_EQ(first.value("probe", ""), "cnmkit") << first.dump(2);
  EXPECT_EQ(first.value("service_manager", ""), "sysv") << first.dump(2);  // auto-detected
  // update-rc.d made the boot link from the init script's LSB header (Default-Start 2 3 4 5).
  EXPECT_NE(test::read_file(results / "rc2.txt").find("S01cnm-probe"), std::string::npos) << log;
  EXPECT_EQ(result(results, "service-status.rc"), "0") << log << probe_log;
  EXPECT_FALSE(result(results, "probe.pid").empty()) << log;
  // The pid file names the probe's own process, so stop and status act on it; a second start
  // finds it running by its binary and succeeds without starting another (LSB).
  EXPECT_EQ(result(results, "pid-exe.txt"), "/opt/cnmkit/bin/cnm-probe") << log;
  EXPECT_EQ(result(results, "start-again.rc"), "0") << log;
  EXPECT_EQ(result(results, "linked-status.rc"), "0") << log;
  EXPECT_EQ(result(results, "nobody-status.rc"), "4") << log;
  EXPECT_EQ(result(results, "stop.rc"), "0") << log;
  EXPECT_EQ(result(results, "force-reload-stopped.rc"), "0") << log;
  EXPECT_EQ(result(results, "status-after-force-reload.rc"), "3") << log;  // still stopped
  EXPECT_EQ(result(results, "start-after-stop.rc"), "0") << log;
  // Without Debian's helpers (as on RHEL-family SysV hosts) the script still did all of it.
  const auto helpers = test::read_file(results / "debian-helpers.txt");
  for (const char* p : {"/sbin/start-stop-daemon", "/lib/lsb/init-functions"})
    EXPECT_NE(helpers.find(std::string(p) + "': No such file"), std::string::npos) << helpers;
  // The binary renamed over while it runs: still the probe to status and restart, which stops
  // the old process and starts the new binary.
  EXPECT_EQ(result(results, "replaced-exe.txt"), "/opt/cnmkit/bin/cnm-probe (deleted)") << log;
  EXPECT_EQ(result(results, "replaced-status.rc"), "0") << log;
  EXPECT_EQ(result(results, "restart.rc"), "0") << log;
  EXPECT_EQ(result(results, "old-pid-after-restart.txt"), "gone") << log;
  EXPECT_EQ(result(results, "restarted-exe.txt"), "/opt/cnmkit/bin/cnm-probe") << log;
  const auto status = json_file(results / "status.json");
  EXPECT_EQ(status.value("service_manager", ""), "sysv");
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2) << probe_log;
  EXPECT_TRUE(status["service"].value("enabled", false)) << status.dump(2);
  EXPECT_FALSE(json_file(results / "install2.json").value("changed", true))
      << test::read_file(results / "install2.json");

  // Uninstall stopped the daemon (its pid is gone), removed every rc link, the script and
  // everything under cnmkit's names.
  EXPECT_EQ(result(results, "uninstall.rc"), "0") << test::read_file(results / "uninstall.json");
  EXPECT_EQ(result(results, "after-uninstall-pid.txt"), "gone") << log;
  const auto rc_after = test::read_file(results / "after-uninstall-rc.txt");
  EXPECT_EQ(rc_after.find("cnm-probe"), std::string::npos) << rc_after;
  EXPECT_NE(rc_after.find("rc2.d"), std::string::npos) << rc_after;  // the listing ran
  const auto files = test::read_file(results / "after-uninstall-files.txt");
  for (const char* p : {"/etc/init.d/cnm-probe", "/etc/cnmkit", "/opt/cnmkit"})
    EXPECT_NE(files.find(std::string(p) + "': No such file"), std::string::npos) << files;
}

TEST(SysvHost, BesideAnOldAgentItStartsTheAgentsProbeAndRestartsTheAgent) {
  ASSERT_EQ(::geteuid(), 0u) << "this test mounts an overlay, enters namespaces and loads eBPF: "
                                "run it as root";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  test::build_agent_deb(host.root() / "var/tmp", {"7.17.0", CNM_PROBE_PATH});
  const KillRooted killer{host.root()};
  enter(host, "agent.sh");
  const auto& results = host.results();
  const auto log = test::read_file(results / "log.txt");
  EXPECT_EQ(result(results, "agent-dpkg.rc"), "0") << log;
  EXPECT_EQ(result(results, "dpkg.rc"), "0") << log;
  ASSERT_EQ(result(results, "install.rc"), "0") << test::read_file(results / "install.json") << log;
  EXPECT_EQ(json_file(results / "install.json").value("probe", ""), "agent");
  // Restarted once by the install; the package's own system-probe script enabled and running.
  EXPECT_EQ(std::stoi(result(results, "agent-starts-1.txt")),
            std::stoi(result(results, "agent-starts-0.txt")) + 1);
  EXPECT_NE(test::read_file(results / "rc2.txt").find("datadog-agent-sysprobe"), std::string::npos);
  EXPECT_EQ(result(results, "sysprobe-status.rc"), "0") << log;
  const auto status = json_file(results / "status.json");
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2);
  EXPECT_EQ(result(results, "verify-after-install.txt"), "0");
  // No init script of cnmkit's own next to the Agent's.
  EXPECT_EQ(test::read_file(results / "initd-after-install.txt").find("cnm-probe"),
            std::string::npos);

  // Uninstall: stopped and unlinked what cnmkit enabled, config gone, the Agent restarted.
  EXPECT_EQ(result(results, "uninstall.rc"), "0") << test::read_file(results / "uninstall.json");
  EXPECT_NE(result(results, "after-uninstall-sysprobe.rc"), "0");
  EXPECT_EQ(test::read_file(results / "after-uninstall-rc2.txt").find("datadog-agent-sysprobe"),
            std::string::npos);
  EXPECT_NE(test::read_file(results / "after-uninstall-config.txt").find("No such file"),
            std::string::npos);
  EXPECT_EQ(std::stoi(result(results, "agent-starts-2.txt")),
            std::stoi(result(results, "agent-starts-1.txt")) + 1);
  EXPECT_EQ(result(results, "verify-after-uninstall.txt"), "0");
}

}  // namespace
}  // namespace cnm
