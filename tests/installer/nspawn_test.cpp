// A real systemd host: a debootstrapped Debian 12 root (cached under /var/cache/cnmkit) boots
// in systemd-nspawn with the capabilities eBPF needs; inside it the cnmkit Debian package is
// installed and `cnmctl install` must leave the probe's unit enabled and active, with the real
// cnm-probe answering /health; a second run changes nothing; uninstall stops and removes it;
// a refused config rolls back; with an agent (a stand-in unit: the Datadog Agent is not in
// Debian) the installer restarts the agent, which starts the probe, and uninstall restarts it
// again once the config is restored.
// Needs root (nspawn, overlay mounts, BPF): without it the test fails, it never skips.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/support/debian_root.h"

namespace cnm {
namespace {

using test::json_file;
using test::trimmed;

TEST(NspawnSystemdHost, PackageInstallEnablesStartsAndVerifiesTheProbe) {
  ASSERT_EQ(::geteuid(), 0u) << "this test boots a container and loads eBPF: run it as root";
  const auto here = test::source_dir() / "tests/installer/nspawn";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  const auto& root = host.root();
  const auto& results = host.results();
  std::filesystem::copy_file(here / "inside.sh", root / "usr/local/sbin/cnmkit-test",
                             std::filesystem::copy_options::overwrite_existing);
  test::write_file(root / "etc/systemd/system/cnmkit-test.service",
                   "[Unit]\nDescription=cnmkit installer test\nAfter=dbus.service\n"
                   "[Service]\nType=oneshot\nExecStart=/usr/local/sbin/cnmkit-test\n"
                   "[Install]\nWantedBy=multi-user.target\n");
  std::filesystem::create_directories(root / "etc/systemd/system/multi-user.target.wants");
  std::filesystem::create_symlink(
      "/etc/systemd/system/cnmkit-test.service",
      root / "etc/systemd/system/multi-user.target.wants/cnmkit-test.service");

  const auto boot =
      test::run({"timeout", "300", "systemd-nspawn", "--register=no", "--keep-unit", "-q",
                 "--console=pipe", "-D", root.string(), "--bind=" + results.string() + ":/results",
                 "--capability=CAP_BPF,CAP_PERFMON,CAP_SYS_ADMIN,CAP_NET_ADMIN,CAP_SYS_RESOURCE",
                 "--system-call-filter=bpf perf_event_open", "-b"});
  const auto log = test::read_file(results / "log.txt");
  ASSERT_TRUE(std::filesystem::exists(results / "finished"))
      << "container exit " << boot.exit_code << "\n"
      << boot.out.substr(0, 4000) << boot.err << log;

  EXPECT_EQ(trimmed(test::read_file(results / "dpkg.rc")), "0") << log;
  // The refused config rolled back: exit 1, nothing left, nothing enabled.
  EXPECT_EQ(trimmed(test::read_file(results / "bad.rc")), "1")
      << test::read_file(results / "bad.json");
  const auto bad = nlohmann::json::parse(test::read_file(results / "bad.json"), nullptr, false);
  ASSERT_TRUE(bad.is_object()) << log;
  EXPECT_TRUE(bad.value("rolled_back", false)) << bad.dump(2);
  const auto after_bad = test::read_file(results / "after-bad.txt");
  EXPECT_NE(after_bad.find("datadog-agent-sysprobe.service': No such file"), std::string::npos)
      << after_bad;
  EXPECT_NE(after_bad.find("system-probe.yaml': No such file"), std::string::npos) << after_bad;
  EXPECT_EQ(test::read_file(results / "after-bad-enabled.txt").find("enabled"), std::string::npos);

  EXPECT_EQ(trimmed(test::read_file(results / "install.rc")), "0")
      << test::read_file(results / "install.json") << log
      << test::read_file(results / "probe-journal.txt");
  const auto first =
      nlohmann::json::parse(test::read_file(results / "install.json"), nullptr, false);
  ASSERT_TRUE(first.is_object()) << log;
  EXPECT_TRUE(first.value("changed", false));
  EXPECT_EQ(first.value("service_manager", ""), "systemd");  // auto-detected
  EXPECT_EQ(trimmed(test::read_file(results / "enabled.txt")), "enabled");
  EXPECT_EQ(trimmed(test::read_file(results / "active.txt")), "active");

  EXPECT_EQ(trimmed(test::read_file(results / "install2.rc")), "0");
  const auto second =
      nlohmann::json::parse(test::read_file(results / "install2.json"), nullptr, false);
  ASSERT_TRUE(second.is_object());
  EXPECT_FALSE(second.value("changed", true)) << second.dump(2);

  const auto status =
      nlohmann::json::parse(test::read_file(results / "status.json"), nullptr, false);
  ASSERT_TRUE(status.is_object()) << log;
  ASSERT_TRUE(status.contains("health")) << status.dump(2);
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2);
  EXPECT_EQ(status["health"].value("http_status", 0), 200);
  EXPECT_TRUE(status["service"].value("active", false));

  EXPECT_EQ(trimmed(test::read_file(results / "uninstall.rc")), "0");
  EXPECT_NE(trimmed(test::read_file(results / "after-uninstall-active.txt")), "active");
  EXPECT_NE(test::read_file(results / "after-uninstall-unit.txt").find("No such file"),
            std::string::npos);

  // Agent 7.50 present: the installer restarts the agent (new invocation) and leaves starting
  // the probe to it, without enabling the probe itself; the probe still answers.
  EXPECT_EQ(trimmed(test::read_file(results / "agent-install.rc")), "0")
      << test::read_file(results / "agent-install.json");
  const auto before = trimmed(test::read_file(results / "agent-before.txt"));
  EXPECT_FALSE(before.empty());
  EXPECT_NE(before, trimmed(test::read_file(results / "agent-after.txt")));
  EXPECT_EQ(trimmed(test::read_file(results / "agent-probe-active.txt")), "active");
  EXPECT_NE(trimmed(test::read_file(results / "agent-probe-enabled.txt")), "enabled");
  const auto agent_status =
      nlohmann::json::parse(test::read_file(results / "agent-status.json"), nullptr, false);
  ASSERT_TRUE(agent_status.is_object());
  EXPECT_TRUE(agent_status.contains("health") && agent_status["health"].value("ok", false))
      << agent_status.dump(2);
  EXPECT_EQ(trimmed(test::read_file(results / "agent-uninstall.rc")), "0")
      << test::read_file(results / "agent-uninstall.json");
  // Uninstall restarted the agent (a new invocation) so it re-reads the restored config.
  const auto before_uninstall = trimmed(test::read_file(results / "agent-before-uninstall.txt"));
  EXPECT_FALSE(before_uninstall.empty());
  EXPECT_NE(before_uninstall, trimmed(test::read_file(results / "agent-after-uninstall.txt")))
      << test::read_file(results / "agent-uninstall.json");
  EXPECT_EQ(trimmed(test::read_file(results / "agent-active-after-uninstall.txt")), "active");
}

}  // namespace
}  // namespace cnm
