// Real systemd hosts: the cached debootstrapped Debian 12 root (no cnmkit library in it: the
// package's binaries are static) boots in systemd-nspawn with the capabilities eBPF needs; a
// oneshot unit runs one scenario script from tests/installer/nspawn/ inside and powers off.
//   standalone             no Agent: cnm-probe under cnmkit's names, DNS monitoring on, a DNS
//                          query made in the container seen, the unit's sandbox scored; then
//                          again under an operator's --layout (paths and service name)
//   agent (7.17 and 7.50)  beside a stand-in Datadog Agent package (tests/support/
//                          agent_package.h): only the seed's steps, nothing of the Agent's
//                          package changed, its own system-probe answering
//   standalone, then agent the host moves to agent mode when the Agent arrives
//   installer's agent      an Agent the Datadog installer put in place (no package, its files
//                          under /opt/datadog-packages/datadog-agent/stable)
//   unit environment       systemd's own reading of Environment= lines against cnmkit's
//                          (common/unit_environment.h): the variables a unit's process gets
// Needs root (nspawn, overlay mounts, BPF): without it the tests fail, they never skip.
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/agent_env.h"
#include "common/host_fs.h"
#include "tests/support/agent_package.h"
#include "tests/support/debian_root.h"

namespace cnm {
namespace {

using test::json_file;
using test::trimmed;

std::string result(const std::filesystem::path& results, const std::string& name) {
  return trimmed(test::read_file(results / name));
}

// Boots the overlay with `script` as a oneshot unit; fails the test when it did not finish.
void boot(const test::DebianRootOverlay& host, const std::string& script) {
  const auto& root = host.root();
  std::filesystem::copy_file(test::source_dir() / "tests/installer/nspawn" / script,
                             root / "usr/local/sbin/cnmkit-test",
                             std::filesystem::copy_options::overwrite_existing);
  test::write_file(root / "etc/systemd/system/cnmkit-test.service",
                   "[Unit]\nDescription=cnmkit installer test\nAfter=dbus.service\n"
                   "[Service]\nType=oneshot\nExecStart=/usr/local/sbin/cnmkit-test\n"
                   "[Install]\nWantedBy=multi-user.target\n");
  std::filesystem::create_directories(root / "etc/systemd/system/multi-user.target.wants");
  std::filesystem::create_symlink(
      "/etc/systemd/system/cnmkit-test.service",
      root / "etc/systemd/system/multi-user.target.wants/cnmkit-test.service");
  const auto r = test::run(
      {"timeout", "300", "systemd-nspawn", "--register=no", "--keep-unit", "-q", "--console=pipe",
       "-D", root.string(), "--bind=" + host.results().string() + ":/results",
       "--capability=CAP_BPF,CAP_PERFMON,CAP_SYS_ADMIN,CAP_NET_ADMIN,CAP_SYS_RESOURCE",
       "--system-call-filter=bpf perf_event_open", "-b"});
  ASSERT_TRUE(std::filesystem::exists(host.results() / "finished"))
      << "container exit " << r.exit_code << "\n"
      << r.out.substr(0, 4000) << r.err << test::read_file(host.results() / "log.txt");
}

// The "Overall exposure level" systemd-analyze security gives a unit.
double exposure(const std::string& report) {
  std::smatch m;
  const std::regex re(R"(Overall exposure level for [^:]+: ([0-9.]+))");
  return std::regex_search(report, m, re) ? std::stod(m[1]) : 99;
}

// The unit files directly in /etc/systemd/system (not the .wants links).
std::vector<std::string> unit_files(const std::string& listing) {
  std::vector<std::string> out;
  std::istringstream in(listing);
  for (std::string name; in >> name;)
    if (name.ends_with(".service")) out.push_back(name);
  return out;
}

TEST(NspawnSystemdHost, StandaloneProbeRunsSandboxedAndSeesDnsQueries) {
  ASSERT_EQ(::geteuid(), 0u) << "this test boots a container and loads eBPF: run it as root";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  boot(host, "standalone.sh");
  const auto& results = host.results();
  const auto log = test::read_file(results / "log.txt");
  EXPECT_EQ(result(results, "dpkg.rc"), "0") << log;

  // The refused config rolled back: exit 1, nothing left, nothing enabled.
  EXPECT_EQ(result(results, "bad.rc"), "1") << test::read_file(results / "bad.json");
  EXPECT_TRUE(json_file(results / "bad.json").value("rolled_back", false));
  const auto after_bad = test::read_file(results / "after-bad.txt");
  EXPECT_NE(after_bad.find("cnm-probe.service': No such file"), std::string::npos) << after_bad;
  EXPECT_NE(after_bad.find("system-probe.yaml': No such file"), std::string::npos) << after_bad;
  EXPECT_EQ(test::read_file(results / "after-bad-enabled.txt").find("enabled"), std::string::npos);

  EXPECT_EQ(result(results, "install.rc"), "0") << test::read_file(results / "install.json") << log
                                                << test::read_file(results / "probe-journal.txt");
  const auto first = json_file(results / "install.json");
  EXPECT_EQ(first.value("probe", ""), "cnmkit") << first.dump(2);
  EXPECT_EQ(first.value("service_manager", ""), "systemd");  // auto-detected
  EXPECT_EQ(result(results, "enabled.txt"), "enabled");
  EXPECT_EQ(result(results, "active.txt"), "active");
  EXPECT_EQ(result(results, "install2.rc"), "0");
  EXPECT_FALSE(json_file(results / "install2.json").value("changed", true));

  const auto status = json_file(results / "status.json");
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2);
  EXPECT_EQ(status["health"].value("http_status", 0), 200);

  // The unit's sandbox, scored by systemd itself on the loaded unit: "OK" or better.
  const auto security = test::read_file(results / "security.txt");
  EXPECT_LT(exposure(security), 5.0) << security;
  // This container's systemd (Debian 12's 252) gets the allow-list, as loaded by systemd: a
  // list of calls allowed (no "~"), bpf among them (installer/syscall_filter.h).
  EXPECT_EQ(result(results, "systemd-version.txt").rfind("systemd 252", 0), 0u);
  const auto filter = result(results, "syscall-filter.txt");
  EXPECT_EQ(filter.rfind("SystemCallFilter=", 0), 0u) << filter;
  EXPECT_NE(filter.substr(0, 18), "SystemCallFilter=~") << filter;
  EXPECT_NE(filter.find(" bpf "), std::string::npos) << filter.substr(0, 300);

  // The query left through loopback and the probe's DNS monitoring saw it.
  const auto dns = json_file(results / "dns.json");
  bool seen = false;
  for (const auto& e : dns.value("dns", nlohmann::json::array()))
    seen |= e.value("domain", "") == "cnmkit-test.example" && e.value("queries", 0) >= 1;
  EXPECT_TRUE(seen) << dns.dump(2) << test::read_file(results / "probe-journal.txt");
  // Which DNS source the sandboxed unit runs (the cgroup programs, or the packet socket and why
  // not the cgroup programs): said, whichever it is.
  const auto source = json_file(results / "debug-stats.json")["dns_source"];
  EXPECT_TRUE(source.is_object()) << source.dump();
  std::cout << "DNS source in the sandboxed unit: " << source.dump() << "\n";
  // Its own names: the runtime folder systemd made for it, the token it made next to its config.
  const auto modes = test::read_file(results / "modes.txt");
  EXPECT_NE(modes.find("750 root:root"), std::string::npos) << modes;  // /run/cnm-probe
  EXPECT_NE(modes.find("600 root:root"), std::string::npos) << modes;  // the token
  EXPECT_NE(modes.find("640 root:root"), std::string::npos) << modes;  // the config

  EXPECT_EQ(result(results, "uninstall.rc"), "0");
  EXPECT_NE(result(results, "after-uninstall-active.txt"), "active");
  const auto gone = test::read_file(results / "after-uninstall.txt");
  for (const char* p : {"cnm-probe.service", "/etc/cnmkit", "/opt/cnmkit"})
    EXPECT_NE(gone.find(std::string(p) + "': No such file"), std::string::npos) << gone;
  // Nor does uninstall leave one (had there been a script, Debian's systemctl enable would have
  // linked it, systemd-sysv-install, and disable left K links: uninstall removes those too).
  // On systemd no init script is written, so systemctl enable mirrors nothing into rc links.
  const auto rc2 = test::read_file(results / "rc2.txt");
  EXPECT_NE(rc2.find("init.d/cnm-probe': No such file"), std::string::npos) << rc2;
  EXPECT_EQ(rc2.find("S01cnm-probe"), std::string::npos) << rc2;
  const auto rc_after = test::read_file(results / "after-uninstall-rc.txt");
  EXPECT_EQ(rc_after.find("cnm-probe"), std::string::npos)
      << rc_after << "\nafter install, rc2.d: " << test::read_file(results / "rc2.txt");
  EXPECT_NE(rc_after.find("rc2.d"), std::string::npos) << rc_after;  // the listing ran

  // An operator's layout: the unit starts the probe on the paths cnmctl installed it with.
  EXPECT_EQ(result(results, "custom.rc"), "0") << test::read_file(results / "custom.json")
                                               << test::read_file(results / "custom-journal.txt");
  EXPECT_EQ(result(results, "custom-active.txt"), "active");
  EXPECT_EQ(result(results, "custom-http.txt"), "200");
  EXPECT_EQ(result(results, "custom-uninstall.rc"), "0");
  const auto custom_gone = test::read_file(results / "after-custom-uninstall.txt");
  for (const char* p : {"netmon-probe.service", "/etc/netmon", "/usr/local/lib/netmon"})
    EXPECT_NE(custom_gone.find(std::string(p) + "': No such file"), std::string::npos)
        << custom_gone;
}

class NspawnAgentHost : public ::testing::TestWithParam<std::string> {};

TEST_P(NspawnAgentHost, InstallConfiguresTheAgentsOwnProbeAndTouchesNoPackageFile) {
  ASSERT_EQ(::geteuid(), 0u) << "this test boots a container and loads eBPF: run it as root";
  const std::string version = GetParam();
  const bool old_agent = version == "7.17.0";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  test::build_agent_deb(host.root() / "var/tmp", {version, CNM_PROBE_PATH});
  test::write_file(host.results() / "agent-version", version + "\n");
  boot(host, "agent.sh");
  const auto& results = host.results();
  const auto log = test::read_file(results / "log.txt");
  EXPECT_EQ(result(results, "agent-dpkg.rc"), "0") << log;
  EXPECT_EQ(result(results, "dpkg.rc"), "0") << log;

  ASSERT_EQ(result(results, "install.rc"), "0") << test::read_file(results / "install.json")
                                                << test::read_file(results / "probe-journal.txt");
  const auto install = json_file(results / "install.json");
  EXPECT_EQ(install.value("probe", ""), "agent") << install.dump(2);
  // The seed's steps: the config from the Agent's example, 0640 root:dd-agent, enabled.
  EXPECT_EQ(result(results, "config-mode.txt"), "640 root:dd-agent");
  EXPECT_NE(test::read_file(results / "config.yaml").find("\n  enabled: true\n"),
            std::string::npos);
  // The Agent restarted once; its own system-probe runs and answers on its socket.
  EXPECT_EQ(std::stoi(result(results, "agent-starts-after.txt")),
            std::stoi(result(results, "agent-starts-before.txt")) + 1);
  EXPECT_EQ(result(results, "sysprobe-active.txt"), "active") << log;
  const auto status = json_file(results / "status.json");
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2);
  // Started at boot by cnmkit only for an Agent that does not start it itself (before 7.18).
  EXPECT_EQ(result(results, "sysprobe-enabled.txt") == "enabled", old_agent);
  EXPECT_FALSE(json_file(results / "install2.json").value("changed", true))
      << test::read_file(results / "install2.json");

  // Nothing of the Agent's package changed, no unit shadows its own, its token untouched.
  EXPECT_EQ(result(results, "verify-after-install.txt"), "0");
  EXPECT_EQ(unit_files(test::read_file(results / "units-after.txt")),
            unit_files(test::read_file(results / "units-before.txt")));
  EXPECT_EQ(result(results, "token-after.txt"), result(results, "token-before.txt"));

  // Uninstall: the config gone again, what cnmkit enabled disabled, the package still intact.
  EXPECT_EQ(result(results, "uninstall.rc"), "0") << test::read_file(results / "uninstall.json");
  EXPECT_NE(test::read_file(results / "after-uninstall-config.txt").find("No such file"),
            std::string::npos);
  EXPECT_NE(result(results, "after-uninstall-enabled.txt"), "enabled");
  EXPECT_EQ(result(results, "verify-after-uninstall.txt"), "0");
}

INSTANTIATE_TEST_SUITE_P(Agents, NspawnAgentHost, ::testing::Values("7.17.0", "7.50.0"),
                         [](const auto& param_info) {
                           std::string n = "Agent" + param_info.param;
                           std::replace(n.begin(), n.end(), '.', '_');
                           return n;
                         });

// An Agent the Datadog installer put in place (Fleet Automation: no package; its folder under
// /opt/datadog-packages linked as "stable", its socket there; nspawn/installer_agent.sh makes
// one from the stand-in package's files): found, configured, its own system-probe answering on
// its socket, and removed again.
TEST(NspawnSystemdHost, AnAgentTheDatadogInstallerPutInPlaceIsConfigured) {
  ASSERT_EQ(::geteuid(), 0u) << "this test boots a container and loads eBPF: run it as root";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  test::build_agent_deb(host.root() / "var/tmp", {"7.60.0", CNM_PROBE_PATH});
  boot(host, "installer_agent.sh");
  const auto& results = host.results();
  const auto log = test::read_file(results / "log.txt");
  EXPECT_EQ(result(results, "extract.rc"), "0") << log;
  EXPECT_NE(result(results, "package-dir.rc"), "0") << "/opt/datadog-agent exists: " << log;
  const auto preflight = json_file(results / "preflight.json");
  EXPECT_EQ(preflight["probe"].value("name", ""), "agent") << preflight.dump(2);
  // Its experiment running: refused, the configuration as it was (or still absent).
  EXPECT_NE(result(results, "install-exp.rc"), "0") << log;
  EXPECT_NE(
      test::read_file(results / "install-exp.json").find("datadog-agent-exp.service is active"),
      std::string::npos)
      << test::read_file(results / "install-exp.json");
  if (result(results, "exp-config-existed.rc") == "0")
    EXPECT_EQ(result(results, "exp-config-same.rc"), "0") << log;
  else
    EXPECT_NE(result(results, "exp-config-exists.rc"), "0") << log;
  ASSERT_EQ(result(results, "install.rc"), "0")
      << test::read_file(results / "install.json") << test::read_file(results / "probe-journal.txt")
      << log;
  EXPECT_EQ(json_file(results / "install.json").value("probe", ""), "agent");
  // The experiment stopped, the same install restarts the Agent (what it had to refuse).
  EXPECT_NE(json_file(results / "install.json")["actions"].dump().find(
                R"(["systemctl","restart","datadog-agent.service"])"),
            std::string::npos)
      << test::read_file(results / "install.json");
  EXPECT_EQ(result(results, "sysprobe-active.txt"), "active") << log;
  const auto status = json_file(results / "status.json");
  EXPECT_TRUE(status["health"].value("ok", false)) << status.dump(2);
  EXPECT_EQ(result(results, "uninstall.rc"), "0") << test::read_file(results / "uninstall.json");
  EXPECT_NE(test::read_file(results / "after-uninstall-config.txt").find("No such file"),
            std::string::npos);
}

TEST(NspawnSystemdHost, AnAgentInstalledLaterMovesTheHostToAgentMode) {
  ASSERT_EQ(::geteuid(), 0u) << "this test boots a container and loads eBPF: run it as root";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  test::build_agent_deb(host.root() / "var/tmp", {"7.50.0", CNM_PROBE_PATH});
  boot(host, "standalone_then_agent.sh");
  const auto& results = host.results();
  const auto log = test::read_file(results / "log.txt");
  ASSERT_EQ(result(results, "standalone.rc"), "0") << test::read_file(results / "standalone.json");
  EXPECT_EQ(result(results, "standalone-active.txt"), "active");
  ASSERT_EQ(result(results, "agent.rc"), "0") << test::read_file(results / "agent.json") << log;
  const auto moved = json_file(results / "agent.json");
  EXPECT_EQ(moved.value("probe", ""), "agent") << moved.dump(2);
  EXPECT_EQ(moved["switched_from"].value("probe", ""), "cnmkit") << moved.dump(2);
  EXPECT_NE(result(results, "after-cnm-probe-active.txt"), "active");
  const auto gone = test::read_file(results / "after-standalone-files.txt");
  for (const char* p : {"cnm-probe.service", "/etc/cnmkit", "/opt/cnmkit", "/run/cnm-probe"})
    EXPECT_NE(gone.find(std::string(p) + "': No such file"), std::string::npos) << gone;
  EXPECT_EQ(result(results, "sysprobe-active.txt"), "active");
  EXPECT_TRUE(json_file(results / "status.json")["health"].value("ok", false))
      << test::read_file(results / "status.json");
  EXPECT_EQ(result(results, "verify.txt"), "0");
}

// The Environment= lines of tests/installer/nspawn/unit_environment.service (and a drop-in):
// the variables the container's systemd gives the unit's process are those cnmkit reads from
// the same files, every one of them (escapes, quotes, specifiers, syntax errors, invalid names).
TEST(NspawnSystemdHost, EnvironmentLinesAreReadAsSystemdReadsThem) {
  ASSERT_EQ(::geteuid(), 0u) << "this test boots a container: run it as root";
  const test::DebianRootOverlay host;
  ASSERT_EQ(host.error(), "");
  const auto units = host.root() / "etc/systemd/system";
  const auto cases = test::source_dir() / "tests/installer/nspawn";
  std::filesystem::copy_file(cases / "unit_environment.service", units / "cnmkit-envtest.service");
  std::filesystem::create_directories(units / "cnmkit-envtest.service.d");
  std::filesystem::copy_file(cases / "unit_environment.conf",
                             units / "cnmkit-envtest.service.d/override.conf");
  boot(host, "unit_environment.sh");
  ASSERT_EQ(result(host.results(), "start.rc"), "0") << test::read_file(host.results() / "log.txt");

  std::map<std::string, std::string> systemd;
  const std::string env = test::read_file(host.results() / "env.bin");
  for (std::size_t pos = 0; pos < env.size();) {
    const auto end = std::min(env.find('\0', pos), env.size());
    const std::string entry = env.substr(pos, end - pos);
    if (entry.rfind("T_", 0) == 0)
      systemd[entry.substr(0, entry.find('='))] = entry.substr(entry.find('=') + 1);
    pos = end + 1;
  }
  Layout layout = default_layout(host.root(), ProbeMode::Agent);
  layout.probe_service = "cnmkit-envtest";
  std::map<std::string, std::string> ours;
  for (const auto& [name, value] : read_agent_sources(HostFs(host.root()), layout).unit_vars)
    if (name.rfind("T_", 0) == 0) ours[name] = value;
  EXPECT_EQ(ours, systemd);
  // Not empty by accident: the cases landed where they should in systemd's reading.
  EXPECT_EQ(systemd["T_B"], "overridden");
  EXPECT_EQ(systemd["T_C"], "from-drop-in");
  EXPECT_EQ(systemd["T_X"], "cnmkit-envtest.service");
  EXPECT_EQ(systemd.count("T_O"), 0u);
  EXPECT_EQ(systemd["T_AP"], "b");
  EXPECT_EQ(systemd["T_AS"], "3");
  EXPECT_EQ(systemd["T_AV"], "6\\");
  EXPECT_EQ(systemd["T_AW"], "cnmkit/envtest");
  EXPECT_GE(systemd.size(), 30u);
}

}  // namespace
}  // namespace cnm
