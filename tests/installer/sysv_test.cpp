// A real SysV host: the cached Debian 12 root (tests/installer/nspawn/make_root.sh) under a
// throwaway overlay, entered with unshare (private mount and PID namespaces) and chroot instead
// of booting systemd. Nothing runs systemd there (/run is a fresh tmpfs), so `cnmctl install`
// with --service-manager auto must pick sysv and drive the real `service`, update-rc.d,
// start-stop-daemon and /lib/lsb/init-functions; the real cnm-probe loads its eBPF programs and
// answers /health; a second run changes nothing; uninstall stops the daemon and removes its
// links and init script, then restarts the agent. A stand-in agent init script (counting its
// starts) shows each restart: by install, by a rollback, by uninstall, none by a no-op rerun.
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

TEST(SysvHost, PackageInstallStartsTheProbeWithServiceAndUpdateRcD) {
  ASSERT_EQ(::geteuid(), 0u) << "this test mounts an overlay, enters namespaces and loads eBPF: "
                                "run it as root";
  const auto here = test::source_dir() / "tests/installer";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  const auto& root = host.root();
  const auto& results = host.results();
  const KillRooted killer{root};  // destroyed first: nothing runs in the root when it unmounts
  std::filesystem::copy_file(here / "sysv/inside.sh", root / "usr/local/sbin/cnmkit-sysv-test",
                             std::filesystem::copy_options::overwrite_existing);

  const auto run = test::run({"timeout", "120", "unshare", "--mount", "--pid", "--fork",
                              "--kill-child", "--propagation", "private", "bash",
                              (here / "sysv/enter.sh").string(), root.string(), results.string()});
  const auto log = test::read_file(results / "log.txt");
  ASSERT_TRUE(std::filesystem::exists(results / "finished")) << "exit " << run.exit_code << "\n"
                                                             << run.out << run.err << log;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(rooted_at(root).empty()) << "processes outlived the PID namespace";

  EXPECT_NE(test::read_file(results / "run-systemd.txt").find("No such file"), std::string::npos)
      << "systemd looks like it runs in the chroot";
  EXPECT_EQ(trimmed(test::read_file(results / "dpkg.rc")), "0") << log;
  const std::string agent_starts0 = trimmed(test::read_file(results / "agent-starts-0.txt"));
  EXPECT_EQ(agent_starts0, "1") << log;

  // The refused config rolled back without rollback errors: nothing installed, not enabled.
  EXPECT_EQ(trimmed(test::read_file(results / "bad.rc")), "1")
      << test::read_file(results / "bad.json");
  const auto bad = json_file(results / "bad.json");
  ASSERT_TRUE(bad.is_object()) << log;
  EXPECT_TRUE(bad.value("rolled_back", false)) << bad.dump(2);
  EXPECT_FALSE(bad.contains("rollback_errors")) << bad.dump(2);
  const auto after_bad = test::read_file(results / "after-bad.txt");
  for (const char* gone :
       {"/etc/init.d/datadog-agent-sysprobe': No such file", "system-probe.yaml': No such file",
        "S01datadog-agent-sysprobe': No such file"})
    EXPECT_NE(after_bad.find(gone), std::string::npos) << gone << "\n" << after_bad;
  // The agent was restarted by the failed run and again by its rollback (restored config).
  EXPECT_EQ(trimmed(test::read_file(results / "agent-starts-bad.txt")), "3") << log;

  const auto probe_log = test::read_file(results / "probe-log.txt");
  EXPECT_EQ(trimmed(test::read_file(results / "install.rc")), "0")
      << test::read_file(results / "install.json") << log << probe_log;
  const auto first = json_file(results / "install.json");
  ASSERT_TRUE(first.is_object()) << log;
  EXPECT_TRUE(first.value("changed", false));
  EXPECT_EQ(first.value("service_manager", ""), "sysv") << first.dump(2);  // auto-detected
  // update-rc.d made the boot link from the init script's LSB header (Default-Start 2 3 4 5).
  const auto rc2 = test::read_file(results / "rc2.txt");
  EXPECT_NE(rc2.find("S01datadog-agent-sysprobe"), std::string::npos) << rc2 << log;
  EXPECT_EQ(trimmed(test::read_file(results / "service-status.rc")), "0") << log << probe_log;
  EXPECT_FALSE(trimmed(test::read_file(results / "probe.pid")).empty()) << log;
  // The agent's init script was restarted by the install (it reads system-probe.yaml).
  EXPECT_EQ(trimmed(test::read_file(results / "agent-starts-1.txt")), "4") << log;

  const auto status = json_file(results / "status.json");
  ASSERT_TRUE(status.is_object()) << log;
  EXPECT_EQ(status.value("service_manager", ""), "sysv");
  ASSERT_TRUE(status.contains("health")) << status.dump(2);
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2) << probe_log;
  EXPECT_EQ(status["health"].value("http_status", 0), 200);
  EXPECT_TRUE(status["service"].value("active", false)) << status.dump(2);
  EXPECT_TRUE(status["service"].value("enabled", false)) << status.dump(2);

  // The second run finds everything in place: no change, no restart of the agent.
  EXPECT_EQ(trimmed(test::read_file(results / "install2.rc")), "0");
  const auto second = json_file(results / "install2.json");
  ASSERT_TRUE(second.is_object()) << log;
  EXPECT_FALSE(second.value("changed", true)) << second.dump(2);
  EXPECT_EQ(trimmed(test::read_file(results / "agent-starts-2.txt")), "4") << log;

  // Uninstall stopped the daemon (its pid is gone), removed every rc link and the script.
  EXPECT_EQ(trimmed(test::read_file(results / "uninstall.rc")), "0")
      << test::read_file(results / "uninstall.json");
  EXPECT_EQ(trimmed(test::read_file(results / "after-uninstall-pid.txt")), "gone") << log;
  // ... then restarted the agent (after the files went), which runs again.
  EXPECT_EQ(trimmed(test::read_file(results / "agent-starts-3.txt")), "5") << log;
  EXPECT_EQ(trimmed(test::read_file(results / "agent-after-uninstall.rc")), "0") << log;
  const auto un = json_file(results / "uninstall.json");
  ASSERT_TRUE(un.is_object()) << log;
  ASSERT_FALSE(un["actions"].empty()) << un.dump(2);
  const auto& last = un["actions"].back();
  EXPECT_EQ(last.value("command", nlohmann::json()),
            nlohmann::json({"service", "datadog-agent", "restart"}))
      << un.dump(2);
  EXPECT_EQ(last.value("exit", -1), 0) << un.dump(2);
  const auto rc_after = test::read_file(results / "after-uninstall-rc.txt");
  EXPECT_EQ(rc_after.find("datadog-agent-sysprobe"), std::string::npos) << rc_after;
  EXPECT_NE(rc_after.find("rc2.d"), std::string::npos) << rc_after;  // the listing ran
  EXPECT_NE(test::read_file(results / "after-uninstall-init.txt").find("No such file"),
            std::string::npos);
}

}  // namespace
}  // namespace cnm
