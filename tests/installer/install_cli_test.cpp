// `cnmctl config enable`, `install`, `uninstall`, `status` against temp roots with
// --service-manager none: plans, dry runs, idempotence (mtimes), kill -9 at every step
// boundary, rollback, and byte-for-byte uninstall.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include "common/process.h"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

#include "installer/apply.h"
#include "installer/install_plan.h"
#include "installer/plan.h"
#include "installer/release_archive.h"
#include "installer/release_contents.h"
#include "installer/service_manager.h"
#include "installer/sha256.h"
#include "tests/installer/archive_builder.h"
#include "tests/installer/tree_snapshot.h"
#include "tests/installer/viper_lookup.h"
#include "tests/support/test_support.h"

namespace cnm {
namespace {

const std::string kUserConfig =
    "# Managed by hand. Do not lose this comment.\n"
    "network_config:   # use system_probe_config for old agents\n"
    "  ## @param enabled\n"
    "  enabled: false  # off for now\n"
    "  max_tracked_connections: 1000\n"
    "\n"
    "logs: {level: debug}\n";

std::string me() { return std::to_string(::getuid()) + ":" + std::to_string(::getgid()); }

class InstallerRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(root() / "etc/group",
                     "root:x:0:\ndd-agent:x:" + std::to_string(::getgid()) + ":\n");
    test::write_file(root() / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    test::write_file(root() / "etc/hostname", "host\n");
  }
  std::filesystem::path root() const { return dir_.path() / "root"; }
  // cnm-probe's config: a root without an Agent is a standalone host (common/layout.h).
  std::filesystem::path config() const { return root() / "etc/cnmkit/system-probe.yaml"; }
  std::filesystem::path agent_config() const {
    return root() / "etc/datadog-agent/system-probe.yaml";
  }
  // The same command beside the Agent (--probe agent): the Agent's files and group.
  test::RunResult ctl_agent(std::vector<std::string> args) {
    args.insert(args.end(), {"--probe", "agent"});
    return ctl(args);
  }
  test::RunResult ctl(std::vector<std::string> args, const std::string& kill_after = "") {
    std::vector<std::string> argv;
    if (!kill_after.empty()) argv = {"env", "CNMKIT_KILL_AFTER_STEP=" + kill_after};
    argv.push_back(test::cnmctl());
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--root", root().string()});
    return test::run(argv);
  }
  // cnm-probe's token, there before the install (which keeps a token it finds).
  void keep_token() {
    test::write_file(root() / "etc/cnmkit/auth_token", std::string(64, 'a') + "\n");
  }
  std::vector<std::string> install_args() {
    return {"install", "--archive", CNM_RELEASE_ARCHIVE, "--service-manager", "none", "--owner",
            me(),      "--json"};
  }
  test::TempDir dir_;
};

TEST_F(InstallerRoot, ConfigEnableCreatesFromExampleWithOneLineChanged) {
  const auto example =
      test::read_file(test::source_dir() / "installer/dist/system-probe.yaml.example");
  test::write_file(root() / "etc/datadog-agent/system-probe.yaml.example", example);
  const auto r = ctl_agent({"config", "enable", "--owner", me()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected = example;
  expected.replace(expected.find("  enabled: false\n", expected.find("\nnetwork_config:")), 17,
                   "  enabled: true\n");
  EXPECT_EQ(test::read_file(agent_config()), expected);
  struct stat st {};
  ASSERT_EQ(::stat(agent_config().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, ::getgid());
}

TEST_F(InstallerRoot, ConfigEnableDefaultOwnerIsRootAndAgentGroup) {
  const auto r = ctl_agent({"config", "enable"});
  if (::geteuid() == 0) {
    ASSERT_EQ(r.exit_code, 0) << r.err;
    struct stat st {};
    ASSERT_EQ(::stat(agent_config().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, ::getgid());  // dd-agent's gid in this root's /etc/group
  } else {
    EXPECT_EQ(r.exit_code, 1);  // cannot chown to root: refused, nothing half-done
    EXPECT_FALSE(std::filesystem::exists(agent_config()));
  }
}

TEST_F(InstallerRoot, ConfigEnableWithoutAgentGroupWritesNothing) {
  test::write_file(root() / "etc/group", "root:x:0:\n");
  const auto before = test::snapshot(dir_.path());
  const auto r = ctl_agent({"config", "enable"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("group 'dd-agent' does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
}

TEST_F(InstallerRoot, ConfigEnableEditsUserFileInPlaceAndDryRunChangesNothing) {
  test::write_file(agent_config(), kUserConfig);
  std::filesystem::permissions(agent_config(), std::filesystem::perms(0600));
  const auto before = test::snapshot(dir_.path());
  const auto dry =
      ctl_agent({"config", "enable", "--dry-run", "--set", "network_config.dns_monitoring=true"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("-  enabled: false  # off for now\n+  enabled: true  # off for now\n"),
            std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("+  dns_monitoring: true\n"), std::string::npos) << dry.out;
  const auto after_dry = test::snapshot(dir_.path());
  EXPECT_EQ(test::tree_diff(before, after_dry), "");
  for (const auto& [p, n] : before) EXPECT_EQ(after_dry.at(p).mtime_ns, n.mtime_ns) << p;

  const auto r =
      ctl_agent({"config", "enable", "--set", "network_config.dns_monitoring=true", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["changed"].get<bool>());
  EXPECT_EQ(test::read_file(agent_config()),
            "# Managed by hand. Do not lose this comment.\n"
            "network_config:   # use system_probe_config for old agents\n"
            "  dns_monitoring: true\n"
            "  ## @param enabled\n"
            "  enabled: true  # off for now\n"
            "  max_tracked_connections: 1000\n"
            "\n"
            "logs: {level: debug}\n");
  EXPECT_EQ(std::filesystem::status(agent_config()).permissions(), std::filesystem::perms(0600));
  // The original is backed up and comes back byte-for-byte on uninstall.
  EXPECT_EQ(test::read_file(root() / "var/lib/cnmkit/backup/etc/datadog-agent/system-probe.yaml"),
            kUserConfig);
  const auto u = ctl({"uninstall"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
}

TEST_F(InstallerRoot, ConfigEnableOldAgentUsesSystemProbeConfig) {
  test::write_file(agent_config(), "system_probe_config:\n  enabled: false\n");
  ASSERT_EQ(ctl_agent({"config", "enable", "--agent-version", "7.23.0"}).exit_code, 0);
  // The current key too: 7.24.1 and later read the old one only where it is not set.
  EXPECT_EQ(test::read_file(agent_config()),
            "system_probe_config:\n  enabled: true\nnetwork_config:\n  enabled: true\n");
  // A file whose network_config.enabled is false keeps monitoring on after an upgrade.
  test::write_file(agent_config(),
                   "system_probe_config:\n  enabled: false\nnetwork_config:\n  enabled: false\n");
  ASSERT_EQ(ctl_agent({"config", "enable", "--agent-version", "6.23.0"}).exit_code, 0);
  EXPECT_EQ(test::read_file(agent_config()),
            "system_probe_config:\n  enabled: true\nnetwork_config:\n  enabled: true\n");
  ASSERT_EQ(ctl_agent({"config", "enable", "--agent-version", "6.30.0"}).exit_code, 0);
  EXPECT_EQ(test::read_file(agent_config()),
            "system_probe_config:\n  enabled: true\nnetwork_config:\n  enabled: true\n");
}

// A variable of the Agent's environment file that turns off the enable key the Agent reads
// would leave network monitoring off whatever cnmctl writes (and the Agent's probe would still
// answer the health check): refused, nothing written. One bound to the key the Agent does not
// read (the old one, on a 7.24.1+ Agent) is only noted.
TEST_F(InstallerRoot, AnAgentEnvironmentThatTurnsMonitoringOffIsRefused) {
  test::write_file(agent_config(), kUserConfig);
  test::write_file(root() / "etc/datadog-agent/environment",
                   "DD_SYSTEM_PROBE_NETWORK_ENABLED=false\n");
  // Read by the Agent's system-probe unit (on a SysV host its script does not read the file).
  test::write_file(root() / "lib/systemd/system/datadog-agent-sysprobe.service",
                   "[Service]\nEnvironmentFile=-/etc/datadog-agent/environment\n");
  const auto before = test::snapshot(dir_.path());
  for (const auto& cmd : {std::vector<std::string>{"config", "enable"},
                          std::vector<std::string>{"install", "--service-manager", "none"}}) {
    const auto r = ctl_agent(cmd);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find("DD_SYSTEM_PROBE_NETWORK_ENABLED=false in "
                         "/etc/datadog-agent/environment overrides network_config.enabled"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
  }
  test::write_file(root() / "etc/datadog-agent/environment", "DD_SYSTEM_PROBE_ENABLED=false\n");
  const auto r = ctl_agent({"install", "--service-manager", "none", "--agent-version", "7.50.0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("DD_SYSTEM_PROBE_ENABLED=false"), std::string::npos) << r.out;
  // An Agent before 7.24.1 reads that one: refused; and the current key, written for its
  // upgrade, is refused too when a variable turns it off.
  const auto old = ctl_agent({"config", "enable", "--agent-version", "7.23.0"});
  EXPECT_EQ(old.exit_code, 1) << old.out;
  test::write_file(root() / "etc/datadog-agent/environment",
                   "DD_SYSTEM_PROBE_NETWORK_ENABLED=false\n");
  EXPECT_EQ(ctl_agent({"config", "enable", "--agent-version", "7.23.0"}).exit_code, 1);
  // A Fleet Automation policy that turns it off ranks above both: refused, naming the policy;
  // one that turns it on wins over the variable.
  std::filesystem::remove(root() / "etc/datadog-agent/environment");
  const std::string policy = "etc/datadog-agent/managed/datadog-agent/stable/system-probe.yaml";
  test::write_file(root() / "lib/systemd/system/datadog-agent-sysprobe.service",
                   "[Service]\nEnvironment=DD_FLEET_POLICIES_DIR=/etc/datadog-agent/managed/"
                   "datadog-agent/stable\n");
  test::write_file(root() / policy, "network_config:\n  enabled: false\n");
  const auto fleet = ctl_agent({"config", "enable", "--agent-version", "7.60.0"});
  EXPECT_EQ(fleet.exit_code, 1) << fleet.out;
  EXPECT_NE(fleet.err.find("network_config.enabled: false in /" + policy +
                           " (a Fleet Automation policy)"),
            std::string::npos)
      << fleet.err;
  test::write_file(root() / policy, "network_config:\n  enabled: true\n");
  EXPECT_EQ(ctl_agent({"config", "enable", "--agent-version", "7.60.0"}).exit_code, 0);
}

// A key written dotted by a provisioning script is the one the Agent reads: it is edited in
// place, a rerun changes nothing, and uninstall gives the file back byte for byte.
TEST_F(InstallerRoot, ConfigEnableEditsDottedKeyTheAgentReads) {
  const std::string user =
      "# provisioned\nruntime_security_config.enabled: true\nnetwork_config.enabled: false\n";
  test::write_file(agent_config(), user);
  const auto before = test::snapshot(dir_.path());
  const auto r = ctl_agent({"config", "enable", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(nlohmann::json::parse(r.out)["changed"].get<bool>());
  const auto after = test::read_file(agent_config());
  EXPECT_EQ(after,
            "# provisioned\nruntime_security_config.enabled: true\nnetwork_config.enabled: true\n");
  EXPECT_TRUE(test::agent_reads(after, {"network_config", "enabled"}, "true"));
  const auto again = ctl_agent({"config", "enable"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already up to date"), std::string::npos) << again.out;
  ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
}

// Flow mappings as people write them: a quote inside a plain value ("it's" is a plain
// scalar), a trailing comma, a comment on a line of a multi-line mapping.
TEST_F(InstallerRoot, ConfigEnableEditsFlowMappingsWithPlainQuotesCommasAndComments) {
  test::write_file(root() / "opt/datadog-agent/version-manifest.json",
                   R"({"build_version":"7.50.0"})");
  const std::pair<std::string, std::string> cases[] = {
      {"network_config: {a: it's, b: 1}\n", "network_config: {a: it's, b: 1, enabled: true}\n"},
      {"network_config: {foo: 1, }\n", "network_config: {foo: 1, enabled: true }\n"},
      {"network_config: {\n  foo: 1, # c\n}\n",
       "network_config: {\n  foo: 1, enabled: true # c\n}\n"},
  };
  for (const auto& [user, want] : cases) {
    test::write_file(agent_config(), user);
    const auto r = ctl_agent({"config", "enable"});
    ASSERT_EQ(r.exit_code, 0) << user << r.err;
    const auto after = test::read_file(agent_config());
    EXPECT_EQ(after, want);
    EXPECT_TRUE(test::agent_reads(after, {"network_config", "enabled"}, "true")) << after;
    ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  }
}

TEST_F(InstallerRoot, ConfigEnableRefusesKeysDifferingInCase) {
  const std::string user = "Network_Config:\n  enabled: false\nnetwork_config:\n  x: 1\n";
  test::write_file(agent_config(), user);
  const auto r = ctl_agent({"config", "enable"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":3:1: duplicate key 'network_config'"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(agent_config()), user);
  // One key in another case is the Agent's key: edited, not doubled.
  test::write_file(agent_config(), "Network_Config:\n  enabled: false\n");
  ASSERT_EQ(ctl_agent({"config", "enable"}).exit_code, 0);
  EXPECT_EQ(test::read_file(agent_config()), "Network_Config:\n  enabled: true\n");
}

TEST_F(InstallerRoot, SetOfTheEnableKeyRefusedAndValuesReadBackAsGiven) {
  test::write_file(agent_config(), "network_config:\n  enabled: false\n");
  for (const auto* set : {"network_config.enabled=false", "Network_Config.Enabled=maybe",
                          "system_probe_config.enabled=true"}) {
    const auto r = ctl_agent({"config", "enable", "--set", set});
    EXPECT_EQ(r.exit_code, 2) << set;
    EXPECT_NE(r.err.find("is what cnmctl sets"), std::string::npos) << r.err;
  }
  EXPECT_EQ(test::read_file(agent_config()), "network_config:\n  enabled: false\n");
  const auto r = ctl_agent({"config", "enable", "--set", "network_config.x=|", "--set",
                            "network_config.port=8080", "--set", "network_config.l=a, b"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto after = test::read_file(agent_config());
  EXPECT_EQ(after, "network_config:\n  l: \"a, b\"\n  port: 8080\n  x: \"|\"\n  enabled: true\n");
  EXPECT_EQ(YAML::Load(after)["network_config"]["x"].Scalar(), "|");
  const auto list = ctl_agent({"config", "enable", "--set", "network_config.l=[1, 2]"});
  EXPECT_EQ(list.exit_code, 2);
  EXPECT_NE(list.err.find("is a list or a mapping"), std::string::npos) << list.err;
}

TEST_F(InstallerRoot, MalformedConfigRefusedWithPositionAndUntouched) {
  test::write_file(config(), "network_config:\n  enabled: false\n  bad: [1, 2\n");
  const auto before = test::snapshot(dir_.path());
  for (const auto& cmd : {std::vector<std::string>{"config", "enable"}, install_args()}) {
    const auto r = ctl(cmd);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_NE(r.err.find("system-probe.yaml:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("malformed YAML"), std::string::npos) << r.err;
    EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
  }
  const auto dup = "network_config:\n  enabled: false\nnetwork_config:\n  enabled: true\n";
  test::write_file(config(), dup);
  const auto r = ctl({"config", "enable"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(":3:1: duplicate key"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_file(config()), dup);
}

// A switch to the other mode that its plan refuses (here the Agent's system-probe.yaml is
// malformed) leaves the install that is there as it was: the new mode is planned before the
// old one is taken away.
TEST_F(InstallerRoot, ASwitchItsPlanRefusesKeepsTheOtherModesInstall) {
  keep_token();
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  test::write_file(agent_config(), "network_config:\n  enabled: false\n  bad: [1, 2\n");
  const auto installed = test::snapshot(dir_.path());
  const auto r =
      ctl_agent({"install", "--archive", CNM_RELEASE_ARCHIVE, "--service-manager", "none"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("malformed YAML"), std::string::npos) << r.err;
  EXPECT_EQ(test::tree_diff(installed, test::snapshot(dir_.path())), "");
  EXPECT_EQ(nlohmann::json::parse(ctl({"status", "--json"}).out)["probe"], "cnmkit");
}

// A switch whose new install fails when applied (here the Agent's folder is a file, so its
// system-probe.yaml cannot be written) rolls back, then installs the mode the host had again
// from what the run has: the host is left monitored as before, and the run still fails.
TEST_F(InstallerRoot, ASwitchThatFailsInstallsTheModeTheHostHadAgain) {
  keep_token();
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto installed = test::snapshot(root(), "var");
  test::write_file(root() / "etc/datadog-agent", "a file where the Agent's folder should be\n");
  auto args = install_args();
  args.insert(args.end(), {"--probe", "agent"});
  const auto r = ctl(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["rolled_back"].get<bool>()) << j.dump(2);
  EXPECT_EQ(j["switched_from"]["probe"], "cnmkit");
  EXPECT_TRUE(j["switched_from"]["installed_again"].get<bool>()) << j.dump(2);
  std::filesystem::remove(root() / "etc/datadog-agent");
  EXPECT_EQ(test::tree_diff(installed, test::snapshot(root(), "var")), "");
  const auto st = nlohmann::json::parse(ctl({"status", "--json"}).out);
  EXPECT_EQ(st["probe"], "cnmkit");
  EXPECT_TRUE(st["installed"].get<bool>());
}

TEST_F(InstallerRoot, UsageErrorsExit2) {
  EXPECT_EQ(ctl({"config", "enable", "--set", "novalue"}).exit_code, 2);
  EXPECT_EQ(ctl({"install", "--service-manager", "upstart"}).exit_code, 2);
  EXPECT_EQ(ctl({"install", "--sha256", "abc"}).exit_code, 2);
  // A lock wait that is no number of seconds is refused, naming it ("abc" used to mean 0).
  for (const auto* t : {"abc", "-5", "10s", "nan", "1e9"}) {
    const auto r = test::run({"env", std::string("CNMKIT_LOCK_TIMEOUT=") + t, test::cnmctl(),
                              "config", "enable", "--root", root().string()});
    EXPECT_EQ(r.exit_code, 2) << t;
    EXPECT_NE(r.err.find(std::string("CNMKIT_LOCK_TIMEOUT='") + t + "' is not a number"),
              std::string::npos)
        << r.err;
  }
  // So is a health wait that is no number of seconds ("-1" used to be accepted).
  for (const auto* t : {"-1", "nan", "abc", "1e9"}) {
    const auto r = ctl({"install", "--archive", CNM_RELEASE_ARCHIVE, "--service-manager", "none",
                        "--health-timeout", t});
    EXPECT_EQ(r.exit_code, 2) << t;
    EXPECT_NE(r.err.find("--health-timeout"), std::string::npos) << r.err;
  }
  EXPECT_EQ(ctl({"install", "--archive", CNM_RELEASE_ARCHIVE, "--sha256", "abc",
                 "--service-manager", "none"})
                .exit_code,
            2);
}

// A key the Agent reads in another section than the one cnm-probe once documented
// (common/agent_keys.h) is written where the Agent reads it. In cnm-probe's file the old
// spelling, where the file holds it, gets the same value (cnm-probe reads both and refuses two
// that differ); nothing is added under it; the Agent's file keeps it as the operator wrote it.
TEST_F(InstallerRoot, AKeyTheAgentReadsElsewhereIsWrittenThereAndTheOldSpellingFollows) {
  test::write_file(config(), kUserConfig);  // network_config.max_tracked_connections: 1000
  const auto r =
      ctl({"config", "enable", "--set", "Network_Config.Max_Tracked_Connections=2000", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = YAML::Load(test::read_file(config()));
  EXPECT_EQ(doc["system_probe_config"]["max_tracked_connections"].Scalar(), "2000");
  EXPECT_EQ(doc["network_config"]["max_tracked_connections"].Scalar(), "2000");
  const auto again = ctl({"config", "enable", "--set", "network_config.disable_ipv6=true"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto after = YAML::Load(test::read_file(config()));
  EXPECT_EQ(after["system_probe_config"]["disable_ipv6"].Scalar(), "true");
  EXPECT_FALSE(after["network_config"]["disable_ipv6"]) << test::read_file(config());
  test::write_file(agent_config(), kUserConfig);
  ASSERT_EQ(ctl_agent({"config", "enable", "--set", "network_config.max_tracked_connections=7"})
                .exit_code,
            0);
  const auto agent = YAML::Load(test::read_file(agent_config()));
  EXPECT_EQ(agent["system_probe_config"]["max_tracked_connections"].Scalar(), "7");
  EXPECT_EQ(agent["network_config"]["max_tracked_connections"].Scalar(), "1000");
}

TEST_F(InstallerRoot, InstallDryRunPrintsPlanAndDiffsAndChangesNothing) {
  test::write_file(config(), kUserConfig);
  const auto before = test::snapshot(dir_.path());
  const auto r = ctl({"install", "--archive", CNM_RELEASE_ARCHIVE, "--service-manager", "none",
                      "--owner", me(), "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("update /etc/cnmkit/system-probe.yaml"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+  enabled: true  # off for now"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("create /etc/systemd/system/cnm-probe.service"), std::string::npos);
  EXPECT_NE(r.out.find("+++ b/etc/systemd/system/cnm-probe.service"), std::string::npos);
  EXPECT_NE(r.out.find("dry run: nothing changed"), std::string::npos);
  const auto after = test::snapshot(dir_.path());
  EXPECT_EQ(test::tree_diff(before, after), "");
  for (const auto& [p, n] : before) EXPECT_EQ(after.at(p).mtime_ns, n.mtime_ns) << p;
}

// Check mode of configuration management: --dry-run --json says whether a run would change.
TEST_F(InstallerRoot, DryRunJsonReportsWhetherThePlanChanges) {
  auto dry = install_args();
  dry.push_back("--dry-run");
  const auto before = test::snapshot(dir_.path());
  const auto r1 = ctl(dry);
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto j1 = nlohmann::json::parse(r1.out);
  EXPECT_TRUE(j1["dry_run"].get<bool>());
  EXPECT_TRUE(j1["changed"].get<bool>()) << r1.out;
  // Each changing file carries what diff mode shows: the config as a unified diff that sets
  // network_config.enabled, binaries by size.
  bool config_diff = false, binary_note = false;
  for (const auto& a : j1["actions"]) {
    if (a["type"] != "file") continue;
    ASSERT_TRUE(a.contains("diff")) << a.dump();
    const std::string d = a["diff"];
    if (a["path"].get<std::string>().ends_with("system-probe.yaml"))
      config_diff = d.find("+++ b/etc/cnmkit/system-probe.yaml") != std::string::npos &&
                    d.find("enabled: true") != std::string::npos;
    if (d.find("binary file, ") != std::string::npos) binary_note = true;
  }
  EXPECT_TRUE(config_diff) << r1.out;
  EXPECT_TRUE(binary_note) << r1.out;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto r2 = ctl(dry);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  const auto j2 = nlohmann::json::parse(r2.out);
  EXPECT_FALSE(j2["changed"].get<bool>()) << r2.out;
  for (const auto& a : j2["actions"]) EXPECT_FALSE(a.contains("diff")) << a.dump();
  // A real run's JSON carries no diffs.
  const auto j3 = nlohmann::json::parse(ctl(install_args()).out);
  for (const auto& a : j3["actions"]) EXPECT_FALSE(a.contains("diff")) << a.dump();
}

// Diff mode of configuration management without a separate dry run: --diff puts the same
// per-file diffs in the report of the run that makes the change.
TEST_F(InstallerRoot, DiffFlagReportsTheDiffsOfTheRunItself) {
  auto args = install_args();
  args.push_back("--diff");
  const auto r = ctl(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["changed"].get<bool>()) << r.out;
  EXPECT_FALSE(j["dry_run"].get<bool>());
  bool config_diff = false;
  for (const auto& a : j["actions"]) {
    if (a["type"] != "file") continue;
    ASSERT_TRUE(a.contains("diff")) << a.dump();
    if (a["path"].get<std::string>().ends_with("system-probe.yaml"))
      config_diff = a["diff"].get<std::string>().find("enabled: true") != std::string::npos;
  }
  EXPECT_TRUE(config_diff) << r.out;
  EXPECT_NE(test::read_file(config()).find("enabled: true"), std::string::npos) << "not applied";
}

TEST_F(InstallerRoot, SecondInstallChangesNothingAndTouchesNoFile) {
  const auto first = ctl(install_args());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto j1 = nlohmann::json::parse(first.out);
  EXPECT_TRUE(j1["changed"].get<bool>());
  EXPECT_EQ(test::read_file(root() / "etc/systemd/system/cnm-probe.service").find("{{"),
            std::string::npos);
  const auto before = test::snapshot(dir_.path());
  const auto second = ctl(install_args());
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto j2 = nlohmann::json::parse(second.out);
  EXPECT_FALSE(j2["changed"].get<bool>());
  for (const auto& a : j2["actions"]) EXPECT_FALSE(a["changed"].get<bool>()) << a.dump();
  const auto after = test::snapshot(dir_.path());
  EXPECT_EQ(test::tree_diff(before, after), "");
  for (const auto& [p, n] : before) EXPECT_EQ(after.at(p).mtime_ns, n.mtime_ns) << p;

  const auto st = ctl({"status", "--json"});
  ASSERT_EQ(st.exit_code, 0);
  const auto js = nlohmann::json::parse(st.out);
  EXPECT_TRUE(js["installed"].get<bool>());
  EXPECT_FALSE(js["interrupted_run"].get<bool>());
  EXPECT_GE(js["files"].size(), 4u);
}

// What a release must hold depends on the mode (installer/release_contents.h): beside the
// Agent a release without cnm-probe installs; standalone it is refused, as is an empty probe,
// before anything is written, so also before the Agent-mode install that is there would be
// taken away for the switch.
TEST_F(InstallerRoot, AReleaseWithoutTheProbeIsRefusedStandaloneOnly) {
  const auto files = read_release(CNM_RELEASE_ARCHIVE, std::nullopt).files;
  const auto archive = [&](const std::string& name, const std::optional<std::string>& probe) {
    std::vector<test::ArEntry> entries;
    for (const auto& [entry, content] : files)
      if (entry != kReleaseProbe) entries.push_back({entry, content});
    if (probe) entries.push_back({std::string(kReleaseProbe), *probe});
    const auto path = dir_ / name;
    test::write_archive(path, entries);
    return path.string();
  };
  const auto without = archive("without-probe.tar.gz", std::nullopt);
  const auto empty = archive("empty-probe.tar.gz", "");
  test::write_file(agent_config(), kUserConfig);
  const auto agent = ctl_agent(
      {"install", "--archive", without, "--service-manager", "none", "--owner", me(), "--json"});
  ASSERT_EQ(agent.exit_code, 0) << agent.out << agent.err;
  EXPECT_EQ(nlohmann::json::parse(agent.out)["probe"], "agent");
  const auto before = test::snapshot(dir_.path());
  for (const auto& a : {without, empty}) {
    const auto r = ctl({"install", "--archive", a, "--probe", "cnmkit", "--service-manager", "none",
                        "--owner", me()});
    EXPECT_EQ(r.exit_code, 1) << a << r.out << r.err;
    EXPECT_NE(r.err.find("the release lacks bin/cnm-probe"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was installed"), std::string::npos) << r.err;
    EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "") << a;
  }
  EXPECT_EQ(nlohmann::json::parse(ctl({"status", "--json"}).out)["probe"], "agent");
}

// An upgrade: the same release with a newer probe binary replaces cnm-probe and restarts it
// once (the probe running and enabled: systemctl answered by a recording runner, systemd is
// not PID 1 here); nothing else of the host changes.
TEST_F(InstallerRoot, ANewReleaseReplacesTheProbeAndRestartsItOnce) {
  keep_token();
  const auto release = [&](const std::string& binary, const std::string& name) {
    const auto path = dir_ / name;
    auto files = read_release(CNM_RELEASE_ARCHIVE, std::nullopt).files;
    files["bin/cnm-probe"] = binary;
    std::vector<test::ArEntry> entries;
    for (const auto& [entry, content] : files) entries.push_back({entry, content});
    test::write_archive(path, entries);
    return read_release(path, std::nullopt);
  };
  const Layout layout = default_layout(root(), ProbeMode::Standalone);
  InstallRequest req;
  req.manager = ServiceManager::Systemd;
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  std::vector<std::string> ran;
  const CommandRunner running = [&](const std::vector<std::string>& argv, std::string*) {
    ran.push_back(command_line(argv));
    return 0;  // the unit known, enabled and active; every step succeeds
  };
  req.release = release("probe v1", "v1.tar.gz");
  ASSERT_FALSE(apply_plan(
                   layout, plan_install(layout, req, running), running,
                   [] { return std::string(); }, [](int) {})
                   .rolled_back);
  const auto before = test::snapshot(root(), "var");

  req.release = release("probe v2", "v2.tar.gz");
  ran.clear();
  const auto plan = plan_install(layout, req, running);
  std::vector<std::string> changed;
  for (const auto& f : plan.files)
    if (f.changes()) changed.push_back(f.host_path);
  EXPECT_EQ(changed, std::vector<std::string>{"/opt/cnmkit/bin/cnm-probe"});
  ran.clear();
  const auto r = apply_plan(
      layout, plan, running, [] { return std::string(); }, [](int) {});
  ASSERT_FALSE(r.rolled_back) << r.error;
  EXPECT_EQ(std::count(ran.begin(), ran.end(), "systemctl restart cnm-probe.service"), 1)
      << ::testing::PrintToString(ran);
  EXPECT_EQ(test::read_file(root() / "opt/cnmkit/bin/cnm-probe"), "probe v2");
  EXPECT_EQ(test::tree_diff(before, test::snapshot(root(), "var")),
            "differs: opt/cnmkit/bin/cnm-probe\n");
}

// On systemd no init script is written (the nspawn test sees none appear); one an earlier cnmkit
// wrote there is replaced by the current one, which hands its actions to systemctl, and
// uninstall takes it away with the rest.
TEST_F(InstallerRoot, OnSystemdTheInitScriptIsWrittenOnlyToReplaceAnEarlierOne) {
  const Layout layout = default_layout(root(), ProbeMode::Standalone);
  const std::string script = "/etc/init.d/cnm-probe";
  const CommandRunner running = [](const std::vector<std::string>&, std::string*) { return 0; };
  const auto plans = [&](const Plan& plan) {
    return std::any_of(plan.files.begin(), plan.files.end(),
                       [&](const FileAction& f) { return f.host_path == script; });
  };
  InstallRequest req;
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  req.manager = ServiceManager::Systemd;
  EXPECT_FALSE(plans(plan_install(layout, req, running)));
  // An earlier build's install wrote one (as --service-manager none still does).
  req.manager = ServiceManager::None;
  ASSERT_FALSE(apply_plan(
                   layout, plan_install(layout, req, running), running,
                   [] { return std::string(); }, [](int) {})
                   .rolled_back);
  test::write_file(root() / "etc/init.d/cnm-probe", "#!/bin/sh\n# an earlier build's\n");
  req.manager = ServiceManager::Systemd;
  const auto plan = plan_install(layout, req, running);
  ASSERT_TRUE(plans(plan));
  ASSERT_FALSE(apply_plan(
                   layout, plan, running, [] { return std::string(); }, [](int) {})
                   .rolled_back);
  EXPECT_NE(test::read_file(root() / "etc/init.d/cnm-probe").find("exec systemctl"),
            std::string::npos);
  ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(root() / "etc/init.d/cnm-probe"));
}

TEST_F(InstallerRoot, FailedStepRollsBackToThePreviousTree) {
  test::write_file(config(), kUserConfig);
  test::write_file(root() / "etc/init.d", "a file where the init folder should be\n");
  const auto before = test::snapshot(dir_.path());
  const auto r = ctl(install_args());
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["rolled_back"].get<bool>());
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
}

// Two real cnmctl installs started together: the second waits for the first's lock, so the
// tree is exactly what one install gives, the state lists each file once, and uninstall gives
// back the original tree.
TEST_F(InstallerRoot, ConcurrentInstallsSerialiseOnTheLock) {
  test::write_file(config(), kUserConfig);
  keep_token();  // every install gives the same tree (installs make a random one)
  const auto original = test::snapshot(root());
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto reference = test::snapshot(root());
  ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  ASSERT_EQ(test::tree_diff(original, test::snapshot(root())), "");

  std::string cmd;
  for (const auto& a : install_args()) cmd += " '" + a + "'";
  cmd += " --root '" + root().string() + "'";
  const auto out = dir_.path() / "out";
  const auto r = test::run({"sh", "-c",
                            "\"$0\"" + cmd + " >'" + out.string() + "1' 2>&1 & p=$!; \"$0\"" + cmd +
                                " >'" + out.string() + "2' 2>&1; r2=$?; wait $p; echo $? $r2",
                            test::cnmctl()});
  EXPECT_EQ(r.out, "0 0\n") << test::read_file(out.string() + "1")
                            << test::read_file(out.string() + "2");
  // One of them did the work, the other found nothing left to do.
  const auto j1 = nlohmann::json::parse(test::read_file(out.string() + "1"));
  const auto j2 = nlohmann::json::parse(test::read_file(out.string() + "2"));
  EXPECT_NE(j1["changed"].get<bool>(), j2["changed"].get<bool>());
  EXPECT_EQ(test::tree_diff(reference, test::snapshot(root())), "");
  const auto state = nlohmann::json::parse(test::read_file(root() / "var/lib/cnmkit/state.json"));
  std::set<std::string> paths;
  for (const auto& f : state["files"]) EXPECT_TRUE(paths.insert(f["path"]).second) << f;
  ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "");
}

// A run that cannot get the lock within $CNMKIT_LOCK_TIMEOUT fails with exit 1, names the
// lock and changes nothing. The holder is util-linux flock(1), a separate process.
TEST_F(InstallerRoot, RunBlockedByAHeldLockFailsClearly) {
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto lock = root() / "var/lib/cnmkit/lock";
  ASSERT_TRUE(std::filesystem::exists(lock));
  const auto before = test::snapshot(dir_.path());
  const auto ready = dir_.path() / "ready";
  auto args = install_args();
  args.insert(args.end(),
              {"--set", "network_config.dns_monitoring=true", "--root", root().string()});
  std::string cmd = "CNMKIT_LOCK_TIMEOUT=1 \"$0\"";
  for (const auto& a : args) cmd += " '" + a + "'";
  const auto r = test::run({"sh", "-c",
                            "flock '" + lock.string() + "' sh -c 'touch \"" + ready.string() +
                                "\"; sleep 3' & p=$!; while [ ! -e '" + ready.string() +
                                "' ]; do sleep 0.05; done; " + cmd + "; rc=$?; wait $p; exit $rc",
                            test::cnmctl()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("another cnmctl run holds " + lock.string()), std::string::npos) << r.err;
  std::filesystem::remove(ready);
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
  // Once the holder is gone the same run goes through.
  EXPECT_EQ(ctl({"install", "--archive", CNM_RELEASE_ARCHIVE, "--service-manager", "none",
                 "--owner", me(), "--set", "network_config.dns_monitoring=true"})
                .exit_code,
            0);
}

// The probe never gets healthy (the injected failure) after every service step ran: the undo
// steps run newest first while the new files are still in place, one of them fails and the
// rest of the cleanup still happens; the reload runs once the old unit is back; the error
// names the failed undo step. (systemctl answered by a recording runner: systemd is not PID 1
// here.) Standalone: cnm-probe is cnmkit's, and no Agent is there to restart.
TEST_F(InstallerRoot, RollbackUndoesServicesFirstInReverseAndFinishesDespiteErrors) {
  test::write_file(config(), kUserConfig);
  const auto before = test::snapshot(dir_.path());
  const Layout layout = default_layout(root(), ProbeMode::Standalone);
  InstallRequest req;
  req.manager = ServiceManager::Systemd;
  req.agent.version = Version::parse("7.10.0");  // needs the probe started by cnmkit
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  const std::string probe = layout.probe_service + ".service";
  std::vector<std::string> ran;
  std::vector<bool> config_was_new;  // per command: the new config still in place?
  const CommandRunner systemctl = [&](const std::vector<std::string>& argv, std::string* out) {
    ran.push_back(command_line(argv));
    config_was_new.push_back(test::read_file(config()) != kUserConfig);
    if (argv.size() > 1 && argv[1] == "cat") return 1;  // no unit known yet
    if (argv.size() > 1 && (argv[1] == "is-enabled" || argv[1] == "is-active")) return 1;
    if (ran.back() == "systemctl disable " + probe) {
      *out = "injected";
      return 1;
    }
    return 0;
  };
  const auto plan = plan_install(layout, req, systemctl);
  ran.clear();
  config_was_new.clear();
  const auto r = apply_plan(
      layout, plan, systemctl, [] { return std::string("not healthy"); }, [](int) {});
  EXPECT_TRUE(r.rolled_back);
  const std::vector<std::string> expected = {
      "systemctl daemon-reload", "systemctl enable " + probe,  "systemctl start " + probe,
      "systemctl stop " + probe, "systemctl disable " + probe, "systemctl daemon-reload"};
  EXPECT_EQ(ran, expected);
  ASSERT_EQ(config_was_new.size(), expected.size());
  for (std::size_t i = 0; i < 5; ++i) EXPECT_TRUE(config_was_new[i]) << ran[i];
  EXPECT_FALSE(config_was_new[5]) << "the reload runs after the files are restored";
  ASSERT_EQ(r.rollback_errors.size(), 1u);
  EXPECT_NE(r.rollback_errors[0].find("systemctl disable " + probe), std::string::npos);
  EXPECT_NE(r.error.find("not healthy"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("rollback: `systemctl disable"), std::string::npos) << r.error;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
}

// Folders the installer creates are 0755 even when the caller's umask is 077 (the service
// manager and the dd-agent user must traverse them).
TEST_F(InstallerRoot, CreatedFoldersAre0755UnderUmask077) {
  std::string cmd = "umask 077; exec \"$0\"";
  for (const auto& a : install_args()) cmd += " '" + a + "'";
  cmd += " --root '" + root().string() + "'";
  const auto r = test::run({"sh", "-c", cmd, test::cnmctl()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto state = nlohmann::json::parse(test::read_file(root() / "var/lib/cnmkit/state.json"));
  ASSERT_GE(state["dirs"].size(), 5u);
  for (const auto& d : state["dirs"]) {
    struct stat st {};
    ASSERT_EQ(::stat((root() / d.get<std::string>().substr(1)).c_str(), &st), 0) << d;
    EXPECT_EQ(st.st_mode & 07777, 0755u) << d;
  }
  struct stat st {};
  ASSERT_EQ(::stat((root() / "etc/systemd/system").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

// A symlinked system-probe.yaml (pointing out of the root) is refused with the link and its
// target named; nothing is written, the link's target is untouched.
TEST_F(InstallerRoot, SymlinkedConfigRefusedNamingTheLinkAndTarget) {
  const auto outside = dir_.path() / "outside.yaml";
  test::write_file(outside, kUserConfig);
  std::filesystem::create_directories(config().parent_path());
  std::filesystem::create_symlink(outside, config());
  const auto before = test::snapshot(dir_.path());
  for (const auto& args :
       {install_args(), std::vector<std::string>{"config", "enable", "--owner", me()}}) {
    const auto r = ctl(args);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.err.find(config().string() + " is a symbolic link to '" + outside.string() + "'"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("Too many levels"), std::string::npos) << r.err;
    EXPECT_EQ(test::tree_diff(before, test::snapshot(dir_.path())), "");
  }
  EXPECT_EQ(test::read_file(outside), kUserConfig);
}

// SysV boot enablement: chkconfig where the host has it (RHEL, Amazon Linux AMI), update-rc.d
// otherwise, each checked in its own rc folders. What runs here: the detection, the plans and
// the rc-folder checks on real trees. What cannot: chkconfig itself (not packaged for Debian
// 12), so the RHEL root carries an executable file at usr/sbin/chkconfig, which is all the
// detection looks at; and `service`/update-rc.d act on the live host, not on --root, so the
// commands are only planned (the runner answers `service ... status` as not running).
TEST_F(InstallerRoot, SysvUsesChkconfigWhereItExistsElseUpdateRcD) {
  const CommandRunner not_running = [](const std::vector<std::string>&, std::string*) { return 3; };
  const auto plan_for = [&](const Layout& layout) {
    Plan plan;
    plan_services(plan, ServiceManager::Sysv, layout,
                  query_services(ServiceManager::Sysv, layout, not_running), true, true, true);
    return plan;
  };
  const Layout layout = default_layout(root());
  const std::string probe = layout.probe_service;
  test::write_file(root() / "etc/init.d" / probe, "#!/bin/sh\n");

  // Debian: update-rc.d, enabled = an S link in /etc/rc2.d.
  ASSERT_EQ(sysv_enabler(layout), SysvEnabler::UpdateRcD);
  auto plan = plan_for(layout);
  ASSERT_FALSE(plan.services.empty());
  EXPECT_EQ(plan.services[0].argv, (std::vector<std::string>{"update-rc.d", probe, "defaults"}));
  EXPECT_EQ(plan.rollback_services[0].argv,
            (std::vector<std::string>{"update-rc.d", "-f", probe, "remove"}));
  std::filesystem::create_directories(root() / "etc/rc2.d");
  std::filesystem::create_symlink("../init.d/" + probe, root() / "etc/rc2.d" / ("S01" + probe));
  EXPECT_TRUE(query_services(ServiceManager::Sysv, layout, not_running).enabled);
  EXPECT_EQ(plan_for(layout).services[0].argv,
            (std::vector<std::string>{"service", probe, "start"}));

  // RHEL / Amazon Linux AMI: chkconfig, enabled = an S link in /etc/rc.d/rc3.d (the Debian
  // rc2.d link does not count there).
  test::write_file(root() / "usr/sbin/chkconfig", "#!/bin/sh\nexit 0\n");
  std::filesystem::permissions(root() / "usr/sbin/chkconfig", std::filesystem::perms(0755));
  ASSERT_EQ(sysv_enabler(layout), SysvEnabler::Chkconfig);
  EXPECT_FALSE(query_services(ServiceManager::Sysv, layout, not_running).enabled);
  plan = plan_for(layout);
  EXPECT_EQ(plan.services[0].argv, (std::vector<std::string>{"chkconfig", "--add", probe}));
  EXPECT_EQ(plan.rollback_services[0].argv,
            (std::vector<std::string>{"chkconfig", "--del", probe}));
  std::filesystem::create_directories(root() / "etc/rc.d/rc3.d");
  std::filesystem::create_symlink("../init.d/" + probe,
                                  root() / "etc/rc.d/rc3.d" / ("S95" + probe));
  const auto now = query_services(ServiceManager::Sysv, layout, not_running);
  EXPECT_TRUE(now.enabled);
  const auto un = uninstall_services(ServiceManager::Sysv, layout, now, {probe});
  ASSERT_EQ(un.size(), 1u);
  EXPECT_EQ(un[0].argv, (std::vector<std::string>{"chkconfig", "--del", probe}));
}

// On systemd, enabling cnm-probe.service also links its same-named init script into the rc
// folders (systemd-sysv-install) and disabling leaves K links: a standalone uninstall removes
// them with the family's tool while the script is still there. Beside the Agent the script and
// its links are the package's: left alone. The nspawn test sees the real links come and go.
TEST_F(InstallerRoot, SystemdUninstallRemovesTheRcLinksOfTheInitScript) {
  const CommandRunner known = [](const std::vector<std::string>&, std::string*) { return 0; };
  const Layout standalone = default_layout(root(), ProbeMode::Standalone);
  const std::string probe = standalone.probe_service;
  const auto steps = [&](const Layout& layout) {
    return uninstall_services(ServiceManager::Systemd, layout,
                              query_services(ServiceManager::Systemd, layout, known), {probe});
  };
  const std::vector<std::string> stop{"systemctl", "stop", probe + ".service"},
      disable{"systemctl", "disable", probe + ".service"},
      remove_links{"update-rc.d", "-f", probe, "remove"};
  ASSERT_EQ(steps(standalone).size(), 2u);  // no link: nothing more
  // A link of another service whose name holds ours is not ours.
  std::filesystem::create_directories(root() / "etc/rc0.d");
  std::filesystem::create_symlink("../init.d/x", root() / "etc/rc0.d" / ("K01" + probe + "-x"));
  EXPECT_EQ(steps(standalone).size(), 2u);
  std::filesystem::create_symlink("../init.d/" + probe, root() / "etc/rc0.d" / ("K01" + probe));
  auto un = steps(standalone);
  ASSERT_EQ(un.size(), 3u);
  EXPECT_EQ(un[0].argv, stop);
  EXPECT_EQ(un[1].argv, disable);
  EXPECT_EQ(un[2].argv, remove_links);
  // RHEL's links, with chkconfig.
  std::filesystem::remove(root() / "etc/rc0.d" / ("K01" + probe));
  test::write_file(root() / "usr/sbin/chkconfig", "#!/bin/sh\nexit 0\n");
  std::filesystem::permissions(root() / "usr/sbin/chkconfig", std::filesystem::perms(0755));
  std::filesystem::create_directories(root() / "etc/rc.d/rc3.d");
  std::filesystem::create_symlink("../init.d/" + probe,
                                  root() / "etc/rc.d/rc3.d" / ("S95" + probe));
  un = steps(standalone);
  ASSERT_EQ(un.size(), 3u);
  EXPECT_EQ(un[2].argv, (std::vector<std::string>{"chkconfig", "--del", probe}));
  // Beside the Agent: the package's links of the package's script.
  Layout agent = default_layout(root(), ProbeMode::Agent);
  agent.probe_service = probe;
  EXPECT_EQ(steps(agent).size(), 2u);
}

// An install under an operator's layout records it. A later command that would act on other
// paths (no --layout: the defaults; or another layout) is refused with exit 2, changes
// nothing, and names the copy the install wrote beside its config: the installer's, and the
// preflight and `cnmctl selinux`, which would judge or label another probe than the install's;
// `cnmctl config` in between keeps the record; with that copy, uninstall gives back the
// original tree.
TEST_F(InstallerRoot, CommandsWithAnotherLayoutThanTheInstallsAreRefused) {
  const auto netmon = (dir_.path() / "netmon.yaml").string();
  test::write_file(netmon,
                   "cnmkit:\n  config_dir: /etc/netmon\n  config_file: /etc/netmon/probe.yaml\n"
                   "  auth_token_file: /etc/netmon/token\n  probe_service: netmon-probe\n"
                   "  probe_binary: /opt/netmon/bin/netmon-probe\n");
  const auto original = test::snapshot(root());
  auto args = install_args();
  args.insert(args.begin(), {"--layout", netmon});
  auto r = ctl(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto copy = (root() / "etc/netmon/installed-layout.yaml").string();
  ASSERT_TRUE(std::filesystem::exists(copy));
  r = ctl({"--layout", netmon, "config", "enable", "--owner", me()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto installed = test::snapshot(root());

  for (const auto& cmd : {std::vector<std::string>{"uninstall"},
                          {"status"},
                          install_args(),
                          {"config", "enable", "--owner", me()},
                          {"preflight", "--no-cache"},
                          {"selinux", "status"},
                          {"selinux", "install", "--dry-run"}}) {
    r = ctl(cmd);
    EXPECT_EQ(r.exit_code, 2) << cmd[0] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("without --layout"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("probe_service: netmon-probe"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--layout " + copy + ")"), std::string::npos) << r.err;
    EXPECT_EQ(test::tree_diff(installed, test::snapshot(root())), "") << cmd[0];
  }
  const auto other = (dir_.path() / "other.yaml").string();
  test::write_file(other, "cnmkit:\n  probe_service: other-probe\n");
  r = ctl({"--layout", other, "uninstall"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--layout " + other + " would act on other paths"), std::string::npos)
      << r.err;
  EXPECT_EQ(test::tree_diff(installed, test::snapshot(root())), "");

  r = ctl({"--layout", copy, "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto status = nlohmann::json::parse(r.out);
  EXPECT_EQ(status.value("probe", ""), "cnmkit") << r.out;
  EXPECT_TRUE(status.value("installed", false)) << r.out;
  // With the install's layout the read-only commands answer, about the install's probe.
  r = ctl({"--layout", copy, "selinux", "status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).value("binary", ""), "/opt/netmon/bin/netmon-probe");
  r = ctl({"--layout", copy, "preflight", "--no-cache", "--json"});
  EXPECT_NE(r.exit_code, 2) << r.out << r.err;  // a verdict: fit or not (this root has no kernel)
  EXPECT_EQ(nlohmann::json::parse(r.out, nullptr, false).value("/probe/name"_json_pointer, ""),
            "cnmkit")
      << r.out;
  EXPECT_EQ(test::tree_diff(installed, test::snapshot(root())), "");
  r = ctl({"--layout", copy, "uninstall"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "");
}

// The unit and init script take the layout's paths unquoted: a value a unit or a shell would
// split or expand is refused before anything is written.
TEST_F(InstallerRoot, LayoutValuesTheServiceFilesCannotTakeAreRefused) {
  const auto original = test::snapshot(root());
  for (const std::string bad :
       {"config_dir: /etc/net mon", "probe_binary: /opt/$x/probe", "run_dir: /run/cnm%i",
        "run_dir: /run/cnm:probe", "probe_service: a;b"}) {
    const auto file = (dir_.path() / "bad.yaml").string();
    test::write_file(file, "cnmkit:\n  " + bad + "\n");
    auto args = install_args();
    args.insert(args.begin(), {"--layout", file});
    const auto r = ctl(args);
    EXPECT_EQ(r.exit_code, 1) << bad << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("cannot take unquoted"), std::string::npos) << bad << ": " << r.err;
    EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "") << bad;
  }
  // Refused before a switch from agent mode takes the Agent's configuration back.
  test::write_file(agent_config(), kUserConfig);
  ASSERT_EQ(ctl_agent({"install", "--service-manager", "none"}).exit_code, 0);
  const auto agent_installed = test::snapshot(root());
  auto args = install_args();
  args.insert(args.begin(), {"--layout", (dir_.path() / "bad.yaml").string()});
  args.insert(args.end(), {"--probe", "cnmkit"});
  const auto r = ctl(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(test::tree_diff(agent_installed, test::snapshot(root())), "");
}

// kill -9 after every step boundary of install (then of uninstall): the next run converges to
// the tree an uninterrupted run gives, and uninstall gives back the original tree.
TEST_F(InstallerRoot, KilledAtEveryStepConverges) {
  test::write_file(config(), kUserConfig);
  keep_token();  // every install gives the same tree (installs make a random one)
  const auto original = test::snapshot(root());
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto reference = test::snapshot(root());
  ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  ASSERT_EQ(test::tree_diff(original, test::snapshot(root())), "");

  int killed = 0;
  for (int step = 1; step < 100; ++step) {
    const auto r = ctl(install_args(), std::to_string(step));
    if (r.exit_code == 0) break;  // the run has fewer steps: every boundary was covered
    ASSERT_EQ(r.exit_code, -1) << "step " << step << ": " << r.err;
    ++killed;
    const auto again = ctl(install_args());
    ASSERT_EQ(again.exit_code, 0) << "step " << step << ": " << again.err;
    EXPECT_EQ(test::tree_diff(reference, test::snapshot(root())), "")
        << "after a kill at step " << step;
    const auto u = ctl({"uninstall"});
    ASSERT_EQ(u.exit_code, 0) << u.err;
    EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "")
        << "uninstall after a kill at step " << step;
  }
  EXPECT_GE(killed, 8);  // begin + (record, folders, write) per file

  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  int ukilled = 0;
  for (int step = 1; step < 100; ++step) {
    const auto r = ctl({"uninstall"}, std::to_string(step));
    if (r.exit_code == 0) break;
    ASSERT_EQ(r.exit_code, -1);
    ++ukilled;
    ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
    EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "")
        << "uninstall killed at step " << step;
    ASSERT_EQ(ctl(install_args()).exit_code, 0);
  }
  EXPECT_GE(ukilled, 4);
}

// The unit's system call filter and read-only file system follow the systemd that runs it
// (`systemctl --version`, answered here by a runner: systemd is not PID 1 on this machine; the
// nspawn test boots a real 252): an allow-list of groups an older systemd drops unknown would leave
// the probe too few calls to start (CentOS 7's 219, Ubuntu 18.04's 237, Debian 10's 241), so there
// only the deny-list.
TEST_F(InstallerRoot, UnitsSandboxFollowsTheHostsSystemd) {
  const Layout layout = default_layout(root(), ProbeMode::Standalone);
  InstallRequest req;
  req.manager = ServiceManager::Systemd;
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  const auto unit_for = [&](const std::string& version_line, int rc) {
    const CommandRunner systemctl = [&](const std::vector<std::string>& argv, std::string* out) {
      if (argv == std::vector<std::string>{"systemctl", "--version"}) {
        if (out) *out = version_line;
        return rc;
      }
      return 0;
    };
    for (const auto& f : plan_install(layout, req, systemctl).files)
      if (f.host_path.ends_with("cnm-probe.service")) return f.after;
    return std::string();
  };
  const std::string allow = "SystemCallFilter=@system-service bpf perf_event_open setns\n";
  const std::string deny = "SystemCallFilter=~@mount @swap @reboot @raw-io @module @obsolete";
  for (const auto& [line, rc] :
       std::vector<std::pair<std::string, int>>{{"systemd 219\n+PAM +AUDIT +SELINUX", 0},
                                                {"systemd 241 (241)\n", 0},
                                                {"systemd 251 (251.4-1ubuntu7)\n", 0},
                                                {"", 1},
                                                {"not systemd\n", 0}}) {
    const auto unit = unit_for(line, rc);
    // Before 232 "strict" does not parse (no protection at all): "full" and the older name.
    const bool before_232 = line.starts_with("systemd 219");
    EXPECT_NE(unit.find(before_232 ? "ProtectSystem=full\nReadWriteDirectories=/etc/cnmkit\n"
                                   : "ProtectSystem=strict\nReadWritePaths=/etc/cnmkit\n"),
              std::string::npos)
        << line << unit;
    EXPECT_EQ(unit.find(allow), std::string::npos) << line << unit;
    EXPECT_NE(unit.find(deny), std::string::npos) << line << unit;
    EXPECT_EQ(unit.find("{{"), std::string::npos) << unit;
  }
  for (const std::string line : {"systemd 252 (252.38-1~deb12u1)\n", "systemd 257 (257.9)\n"}) {
    const auto unit = unit_for(line, 0);
    EXPECT_NE(unit.find("ProtectSystem=strict\nReadWritePaths=/etc/cnmkit\n"), std::string::npos);
    EXPECT_NE(unit.find(allow), std::string::npos) << line << unit;
    EXPECT_NE(unit.find(deny), std::string::npos) << line << unit;
  }
}

// Run 1 writes system-probe.yaml and is SIGKILLed before its daemon-reload and probe restart;
// run 2 finds nothing to write but must still run them. systemd is not PID 1 on this machine,
// so systemctl is answered by a recording runner (the probe active);
// the plan, the journal, the files and the apply are the real ones.
TEST_F(InstallerRoot, RerunAfterKillBeforeRestartRunsTheServiceSteps) {
  test::write_file(config(), kUserConfig);
  const Layout layout = default_layout(root(), ProbeMode::Standalone);
  InstallRequest req;
  req.manager = ServiceManager::Systemd;
  req.agent.version = Version::parse("7.50.0");
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  std::vector<std::string> ran;
  const CommandRunner systemctl = [&](const std::vector<std::string>& argv, std::string*) {
    ran.push_back(command_line(argv));
    return 0;
  };
  const auto config_written = [&] {
    return test::read_file(config()).find("enabled: true") != std::string::npos;
  };
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const auto plan = plan_install(layout, req, systemctl);
    apply_plan(
        layout, plan, systemctl, [] { return std::string(); },
        [&](int) {
          if (config_written()) ::raise(SIGKILL);  // right after the config write
        });
    ::_exit(3);  // not reached: the hook kills before any service step
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  ASSERT_TRUE(config_written());

  ran.clear();
  const auto plan = plan_install(layout, req, systemctl);
  ASSERT_TRUE(plan.changes());
  ran.clear();
  const auto r = apply_plan(
      layout, plan, systemctl, [] { return std::string(); }, [](int) {});
  EXPECT_TRUE(r.resumed);
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.error, "");
  const auto has = [&](const std::string& c) {
    return std::find(ran.begin(), ran.end(), c) != ran.end();
  };
  EXPECT_TRUE(has("systemctl daemon-reload"));
  EXPECT_TRUE(has("systemctl restart " + layout.probe_service + ".service"));

  // Done now: a third run has nothing to do.
  EXPECT_FALSE(plan_install(layout, req, systemctl).changes());
}

// An install beside an Agent of `version`, the config owned by the test's user.
InstallRequest agent_request(const char* version) {
  InstallRequest req;
  req.agent.version = Version::parse(version);
  req.config.owner = FileOwner{::getuid(), ::getgid()};
  return req;
}

// A runner for plans: every service is stopped (`service X status` and `systemctl is-active`
// answer 3), every other command succeeds.
int answer_stopped(const std::vector<std::string>& argv, std::string*) {
  const bool asks_active = argv.size() > 1 && argv[0] == "systemctl" && argv[1] == "is-active";
  return asks_active || (argv.size() > 2 && argv.back() == "status") ? 3 : 0;
}

// Beside an Agent 6.18/7.18 or newer, systemd starts its system-probe with the Agent (the unit
// Wants= it); the Agent's SysV script starts only its process, trace and security agents
// (omnibus sysvinit_debian.erb), never the system-probe: on a SysV host cnmkit enables and
// starts it whatever the Agent's version. systemctl and service are answered by a recording
// runner (the probe not running): the plan is the real one.
TEST_F(InstallerRoot, OnSysvTheAgentsProbeIsStartedWhateverTheAgentsVersion) {
  test::write_file(agent_config(), kUserConfig);
  for (const auto* s : {"datadog-agent", "datadog-agent-sysprobe"})
    test::write_file(root() / "etc/init.d" / s, "#!/bin/sh\n");
  const Layout layout = default_layout(root(), ProbeMode::Agent);
  InstallRequest req = agent_request("7.50.0");
  const CommandRunner stopped = answer_stopped;
  const auto steps = [&](ServiceManager m) {
    req.manager = m;
    std::vector<std::string> out;
    for (const auto& s : plan_install(layout, req, stopped).services)
      out.push_back(command_line(s.argv));
    return out;
  };
  const auto sysv = steps(ServiceManager::Sysv);
  EXPECT_NE(std::find(sysv.begin(), sysv.end(), "service datadog-agent-sysprobe start"), sysv.end())
      << ::testing::PrintToString(sysv);
  EXPECT_NE(std::find(sysv.begin(), sysv.end(), "service datadog-agent restart"), sysv.end());
  const auto systemd = steps(ServiceManager::Systemd);
  for (const auto& step : systemd)
    EXPECT_EQ(step.find("datadog-agent-sysprobe"), std::string::npos) << step;
  // Without the script (an upstart host: its jobs are in /etc/init) nothing is planned.
  std::filesystem::remove(root() / "etc/init.d/datadog-agent-sysprobe");
  req.manager = ServiceManager::Sysv;
  try {
    plan_install(layout, req, stopped);
    ADD_FAILURE() << "planned without the Agent's system-probe script";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has no init script"), std::string::npos) << e.what();
  }
}

// The Agent's SysV script for its system-probe sources /etc/default/NAME (Debian) or
// /etc/sysconfig/NAME (Red Hat) and exits without starting it where DATADOG_ENABLED=no: the
// install would roll back at its health check; it is refused before anything is written, with
// the file named. Under systemd the file is not read.
TEST_F(InstallerRoot, OnSysvADefaultsFileThatDisablesTheAgentsProbeIsRefused) {
  test::write_file(agent_config(), kUserConfig);
  test::write_file(root() / "etc/init.d/datadog-agent",
                   "#!/bin/sh\n[ -r \"/etc/default/${NAME}\" ] && . \"/etc/default/${NAME}\"\n");
  const Layout layout = default_layout(root(), ProbeMode::Agent);
  InstallRequest req = agent_request("7.50.0");
  const CommandRunner stopped = answer_stopped;
  const auto refusal = [&](ServiceManager m) -> std::string {
    req.manager = m;
    try {
      plan_install(layout, req, stopped);
      return "";
    } catch (const std::runtime_error& e) {
      return e.what();
    }
  };
  for (const auto& [script, defaults] :
       {std::pair{"if [ -r \"/etc/default/${NAME}\" ]; then\n\t. \"/etc/default/${NAME}\"\nfi\n",
                  "etc/default/datadog-agent-sysprobe"},
        std::pair{"if [ -r \"/etc/sysconfig/${NAME}\" ]; then\n . \"/etc/sysconfig/${NAME}\"\nfi\n",
                  "etc/sysconfig/datadog-agent-sysprobe"}}) {
    test::write_file(root() / "etc/init.d/datadog-agent-sysprobe",
                     std::string("#!/bin/sh\nNAME=\"datadog-agent-sysprobe\"\n") + script);
    test::write_file(root() / defaults, "# set by hand\nDATADOG_ENABLED=\"yes\"\n");
    EXPECT_EQ(refusal(ServiceManager::Sysv), "") << defaults;
    test::write_file(root() / defaults,
                     "DATADOG_ENABLED=\"yes\"\nexport DATADOG_ENABLED=no # off for now\n");
    const auto why = refusal(ServiceManager::Sysv);
    EXPECT_NE(why.find("/" + std::string(defaults) + " sets DATADOG_ENABLED=no"), std::string::npos)
        << why;
    EXPECT_NE(why.find("nothing was installed"), std::string::npos) << why;
    EXPECT_EQ(refusal(ServiceManager::Systemd), "") << "systemd does not read " << defaults;
    std::filesystem::remove(root() / defaults);
  }
  // A defaults file the script does not source changes nothing.
  test::write_file(root() / "etc/sysconfig/datadog-agent-sysprobe", "DATADOG_ENABLED=no\n");
  test::write_file(root() / "etc/init.d/datadog-agent-sysprobe",
                   "#!/bin/sh\n. /etc/default/datadog-agent-sysprobe\n");
  EXPECT_EQ(refusal(ServiceManager::Sysv), "");
}

// Every <name>.cnmkit-save* below root, relative to it, sorted.
std::vector<std::string> saves_below(const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.path().filename().string().find(".cnmkit-save") != std::string::npos)
      out.push_back(std::filesystem::relative(e.path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json state_json(const std::filesystem::path& root) {
  return nlohmann::json::parse(test::read_file(root / "var/lib/cnmkit/state.json"));
}

// The operator edits system-probe.yaml after install: uninstall keeps the edit as
// .cnmkit-save (same mode and owner) and restores the original; a later save never replaces
// an earlier one.
TEST_F(InstallerRoot, UninstallKeepsAnEditMadeAfterInstallAsCnmkitSave) {
  test::write_file(config(), kUserConfig);
  std::filesystem::permissions(config(), std::filesystem::perms(0600));
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  // state.json holds the hash of what cnmkit wrote.
  const auto written = test::read_file(config());
  bool found = false;
  const auto state = state_json(root());
  for (const auto& f : state["files"])
    if (f["path"] == "/etc/cnmkit/system-probe.yaml") {
      found = true;
      EXPECT_EQ(f.value("sha256", ""), sha256_hex(written));
    }
  EXPECT_TRUE(found);

  const std::string edited = written + "# raised by the operator after install\nextra: 1\n";
  test::write_file(config(), edited);
  std::filesystem::permissions(config(), std::filesystem::perms(0600));
  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  const auto j = nlohmann::json::parse(u.out);
  ASSERT_EQ(j["saved"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["saved"][0]["path"], "/etc/cnmkit/system-probe.yaml");
  EXPECT_EQ(j["saved"][0]["saved_as"], "/etc/cnmkit/system-probe.yaml.cnmkit-save");
  bool save_action = false;
  for (const auto& a : j["actions"]) save_action |= a.value("action", "") == "save";
  EXPECT_TRUE(save_action) << j.dump(2);

  const auto save = root() / "etc/cnmkit/system-probe.yaml.cnmkit-save";
  EXPECT_EQ(test::read_file(save), edited);
  EXPECT_EQ(test::read_file(config()), kUserConfig);
  struct stat sc {
  }, ss{};
  ASSERT_EQ(::stat(config().c_str(), &sc), 0);
  ASSERT_EQ(::stat(save.c_str(), &ss), 0);
  EXPECT_EQ(ss.st_mode & 07777, 0600u);
  EXPECT_EQ(ss.st_uid, sc.st_uid);
  EXPECT_EQ(ss.st_gid, sc.st_gid);
  EXPECT_EQ(saves_below(root()),
            std::vector<std::string>{"etc/cnmkit/system-probe.yaml.cnmkit-save"});

  // Again, text output: the first save stays, the new edit goes next to it.
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const std::string edited2 = test::read_file(config()) + "second: edit\n";
  test::write_file(config(), edited2);
  const auto u2 = ctl({"uninstall"});
  ASSERT_EQ(u2.exit_code, 0) << u2.err;
  EXPECT_NE(u2.out.find("save /etc/cnmkit/system-probe.yaml as "
                        "/etc/cnmkit/system-probe.yaml.cnmkit-save.1"),
            std::string::npos)
      << u2.out;
  EXPECT_EQ(test::read_file(save), edited);
  EXPECT_EQ(test::read_file(root() / "etc/cnmkit/system-probe.yaml.cnmkit-save.1"), edited2);
  EXPECT_EQ(test::read_file(config()), kUserConfig);
}

TEST_F(InstallerRoot, UninstallOfAnUneditedInstallSavesNothing) {
  test::write_file(config(), kUserConfig);
  const auto original = test::snapshot(root());
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_TRUE(nlohmann::json::parse(u.out)["saved"].empty()) << u.out;
  EXPECT_EQ(saves_below(root()), std::vector<std::string>{});
  EXPECT_EQ(test::tree_diff(original, test::snapshot(root())), "");
}

// A config cnmkit created (none before) and the operator then edited: removed, edit kept.
TEST_F(InstallerRoot, EditedConfigThatCnmkitCreatedIsSavedBeforeRemoval) {
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const std::string edited = test::read_file(config()) + "network_config_extra: true\n";
  test::write_file(config(), edited);
  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_FALSE(std::filesystem::exists(config()));
  EXPECT_EQ(test::read_file(root() / "etc/cnmkit/system-probe.yaml.cnmkit-save"), edited);
  EXPECT_EQ(
      std::filesystem::status(root() / "etc/cnmkit/system-probe.yaml.cnmkit-save").permissions(),
      std::filesystem::perms(0640));
  EXPECT_EQ(saves_below(root()),
            std::vector<std::string>{"etc/cnmkit/system-probe.yaml.cnmkit-save"});
}

// The operator edits the config and the unit; the next install edits the config in place
// (the operator's comment stays in it) and replaces the unit whole. Uninstall must still keep
// the config: its content matches what cnmkit wrote, but carries the operator's edit. The
// unit holds only cnmkit's content again: nothing to keep.
TEST_F(InstallerRoot, EditCarriedIntoAReinstallIsStillSaved) {
  test::write_file(config(), kUserConfig);
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  std::string cfg = test::read_file(config());
  cfg.replace(cfg.find("  enabled: true"), 15,
              "  enabled: false # operator: off during the freeze");
  test::write_file(config(), cfg);
  const auto unit = root() / "etc/systemd/system/cnm-probe.service";
  test::write_file(unit, test::read_file(unit) + "# local tweak\n");
  const auto again = ctl(install_args());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const auto reinstalled = test::read_file(config());
  ASSERT_NE(reinstalled.find("  enabled: true # operator: off during the freeze"),
            std::string::npos)
      << reinstalled;
  EXPECT_EQ(test::read_file(unit).find("# local tweak"), std::string::npos);

  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(test::read_file(root() / "etc/cnmkit/system-probe.yaml.cnmkit-save"), reinstalled);
  EXPECT_EQ(test::read_file(config()), kUserConfig);
  EXPECT_EQ(saves_below(root()),
            std::vector<std::string>{"etc/cnmkit/system-probe.yaml.cnmkit-save"});
}

// state.json from before hashes were recorded: it loads; what cnmkit wrote is unknown, so
// uninstall keeps a copy of every file it would change or remove. An install run first
// records the hashes of the files it replaces whole and finds as planned (the config, edited
// in place, stays unknown: a copy of it is kept).
TEST_F(InstallerRoot, OldStateWithoutHashesLoadsAndKeepsWhatItCannotVouchFor) {
  const auto strip_hashes = [&] {
    auto j = state_json(root());
    for (auto& f : j["files"]) {
      f.erase("sha256");
      f.erase("carries_edit");
    }
    test::write_file(root() / "var/lib/cnmkit/state.json", j.dump(2));
  };
  test::write_file(config(), kUserConfig);
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const auto installed_config = test::read_file(config());
  strip_hashes();
  const auto st = ctl({"status", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_TRUE(nlohmann::json::parse(st.out)["installed"].get<bool>());

  // Uninstall straight away: every file is kept aside, every original still comes back.
  const auto recorded = state_json(root())["files"].size();
  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  const auto saved = nlohmann::json::parse(u.out)["saved"];
  EXPECT_EQ(saved.size(), recorded);
  EXPECT_EQ(test::read_file(root() / "etc/cnmkit/system-probe.yaml.cnmkit-save"), installed_config);
  EXPECT_EQ(test::read_file(config()), kUserConfig);
  // A file cnmkit created from the archive (the release's SELinux module): kept, removed.
  const auto created = root() / "opt/cnmkit/selinux/system_probe_policy.pp";
  EXPECT_TRUE(std::filesystem::exists(created.string() + ".cnmkit-save"));
  EXPECT_FALSE(std::filesystem::exists(created));

  // Install, drop the hashes, install again (no change: hashes recorded), uninstall: only the
  // config, which cnmkit cannot tell from an edit, is kept.
  for (const auto& name : saves_below(root())) std::filesystem::remove(root() / name);
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  strip_hashes();
  const auto again = ctl(install_args());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(nlohmann::json::parse(again.out)["changed"].get<bool>());
  const auto state = state_json(root());
  for (const auto& f : state["files"])
    EXPECT_EQ(f.contains("sha256"), f["path"] != "/etc/cnmkit/system-probe.yaml") << f.dump();
  const auto u2 = ctl({"uninstall", "--json"});
  ASSERT_EQ(u2.exit_code, 0) << u2.err;
  EXPECT_EQ(saves_below(root()),
            std::vector<std::string>{"etc/cnmkit/system-probe.yaml.cnmkit-save"});
  EXPECT_EQ(test::read_file(config()), kUserConfig);
}

// A later run that fails and rolls back puts the files back as they were, and with them the
// records of what cnmkit wrote: an operator's edit made before that run is still kept aside
// at uninstall, and state.json is byte-for-byte what it was.
TEST_F(InstallerRoot, RolledBackRunRestoresTheRecordsOfWhatCnmkitWrote) {
  test::write_file(config(), kUserConfig);
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  const std::string edited = test::read_file(config()) + "# operator\n";
  test::write_file(config(), edited);
  const auto state_before = test::read_file(root() / "var/lib/cnmkit/state.json");

  const Layout layout = default_layout(root(), ProbeMode::Standalone);
  InstallRequest req;
  req.manager = ServiceManager::Systemd;
  req.agent.version = Version::parse("7.10.0");
  req.config.sets.push_back({"network_config.dns_monitoring", "true"});
  const CommandRunner systemctl = [](const std::vector<std::string>& argv, std::string*) {
    return argv.size() > 1 &&
                   (argv[1] == "is-enabled" || argv[1] == "is-active" || argv[1] == "cat")
               ? 1
               : 0;
  };
  const auto plan = plan_install(layout, req, systemctl);
  const auto r = apply_plan(
      layout, plan, systemctl, [] { return std::string("not healthy"); }, [](int) {});
  ASSERT_TRUE(r.rolled_back);
  EXPECT_TRUE(r.rollback_errors.empty());
  EXPECT_EQ(test::read_file(config()), edited);
  EXPECT_EQ(test::read_file(root() / "var/lib/cnmkit/state.json"), state_before);

  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(test::read_file(root() / "etc/cnmkit/system-probe.yaml.cnmkit-save"), edited);
  EXPECT_EQ(test::read_file(config()), kUserConfig);
}

// systemctl and service act on the services of the host cnmctl runs on, never on a --root's.
// With a logging stand-in for each first on PATH (an Agent in the root, which both would
// restart), an explicit --service-manager systemd or sysv under --root is a usage error for
// install (dry run too), status and uninstall: nothing is run on this host, nothing in the
// root changes. auto under --root means none: it runs nothing either.
TEST_F(InstallerRoot, ExplicitServiceManagerUnderRootIsRefusedAndRunsNothingOnTheHost) {
  const auto bin = dir_.path() / "fakebin", log = dir_.path() / "host-commands.log";
  for (const char* tool : {"systemctl", "service"}) {
    // The Agent's unit and script are "known" (a restart would be planned), the probe not.
    test::write_file(bin / tool, std::string("#!/bin/sh\necho \"") + tool + " $*\" >> '" +
                                     log.string() +
                                     "'\ncase \"$1\" in cat) [ \"$2\" = datadog-agent.service ] "
                                     "&& exit 0; exit 1;; is-enabled|is-active) exit 1;; "
                                     "esac\nexit 0\n");
    std::filesystem::permissions(bin / tool, std::filesystem::perms(0755));
  }
  test::write_file(root() / "opt/datadog-agent/version-manifest.json",
                   "{\"build_version\":\"7.50.0\"}\n");
  test::write_file(root() / "etc/datadog-agent/system-probe.yaml", kUserConfig);
  test::write_file(root() / "etc/init.d/datadog-agent", "#!/bin/sh\nexit 0\n");
  const char* host_path = std::getenv("PATH");
  const std::string path = "PATH=" + bin.string() + ":" + (host_path ? host_path : "/usr/bin:/bin");
  const auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"env", path, test::cnmctl()});
    args.insert(args.end(), {"--root", root().string()});
    return test::run(args);
  };
  const auto host_commands = [&] {
    return std::filesystem::exists(log) ? test::read_file(log) : std::string();
  };
  const auto refused_everywhere = [&](const std::string& when) {
    for (const std::string m : {"systemd", "sysv"}) {
      const std::vector<std::vector<std::string>> commands = {
          {"install", "--archive", CNM_RELEASE_ARCHIVE, "--owner", me(), "--agent-version",
           "7.17.0", "--health-timeout", "1", "--service-manager", m},
          {"install", "--archive", CNM_RELEASE_ARCHIVE, "--owner", me(), "--dry-run",
           "--service-manager", m},
          {"status", "--json", "--service-manager", m},
          {"uninstall", "--service-manager", m},
          {"uninstall", "--json", "--service-manager", m}};
      for (const auto& args : commands) {
        const auto before = test::snapshot(root());
        const auto r = run(args);
        const std::string what = when + ": " + ::testing::PrintToString(args);
        EXPECT_EQ(r.exit_code, 2) << what << r.out << r.err;
        EXPECT_NE(r.err.find("--service-manager " + m + " with --root " + root().string() +
                             ": the services under --root are the root's"),
                  std::string::npos)
            << what << r.err;
        EXPECT_NE(r.err.find("use --service-manager none"), std::string::npos) << what << r.err;
        EXPECT_EQ(host_commands(), "") << what;
        EXPECT_EQ(test::tree_diff(before, test::snapshot(root())), "") << what;
      }
    }
  };
  refused_everywhere("nothing installed");

  // Installed with none (auto means the same under --root): still refused, the install stays.
  const auto i = run({"install", "--archive", CNM_RELEASE_ARCHIVE, "--owner", me(), "--json"});
  ASSERT_EQ(i.exit_code, 0) << i.err;
  const auto ij = nlohmann::json::parse(i.out);
  EXPECT_EQ(ij["service_manager"], "none");
  EXPECT_EQ(ij["probe"], "agent");
  refused_everywhere("installed");
  EXPECT_TRUE(std::filesystem::exists(root() / "var/lib/cnmkit/state.json"));

  const auto st = run({"status", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_EQ(nlohmann::json::parse(st.out)["service_manager"], "none");
  const auto u = run({"uninstall"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(test::read_file(agent_config()), kUserConfig);
  EXPECT_EQ(host_commands(), "");
}

// The Agent purged after install took /etc/datadog-agent with it: uninstall does not make
// that folder again for the config; it keeps the original cnmkit replaced in the state
// folder's kept/ (0600), says so on stdout, in --json and on stderr, and finishes: the
// records go, a rerun has nothing to do, status lists what was kept.
TEST_F(InstallerRoot, UninstallAfterTheConfigFolderWasRemovedKeepsTheOriginalAndFinishes) {
  test::write_file(agent_config(), kUserConfig);
  const auto i = ctl_agent(install_args());
  ASSERT_EQ(i.exit_code, 0) << i.err;
  std::filesystem::remove_all(root() / "etc/datadog-agent");

  const auto u = ctl({"uninstall", "--json"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  const auto j = nlohmann::json::parse(u.out);
  EXPECT_TRUE(j["changed"].get<bool>());
  const std::string kept_as = "/var/lib/cnmkit/kept/etc/datadog-agent/system-probe.yaml";
  ASSERT_EQ(j["kept"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["kept"][0]["path"], "/etc/datadog-agent/system-probe.yaml");
  EXPECT_EQ(j["kept"][0]["kept_as"], kept_as);
  EXPECT_EQ(j["kept"][0]["folder_gone"], "/etc/datadog-agent");
  bool keep_action = false;
  for (const auto& a : j["actions"]) keep_action |= a.value("action", "") == "keep";
  EXPECT_TRUE(keep_action) << j.dump(2);
  EXPECT_NE(u.err.find(agent_config().string() +
                       " not restored: " + (root() / "etc/datadog-agent").string() +
                       " is gone; the original "
                       "cnmkit replaced is kept as " +
                       root().string() + kept_as),
            std::string::npos)
      << u.err;
  EXPECT_FALSE(std::filesystem::exists(root() / "etc/datadog-agent"));
  EXPECT_EQ(test::read_file(root() / kept_as.substr(1)), kUserConfig);
  EXPECT_EQ(std::filesystem::status(root() / kept_as.substr(1)).permissions(),
            std::filesystem::perms(0600));
  EXPECT_FALSE(std::filesystem::exists(root() / "var/lib/cnmkit/state.json"));
  EXPECT_FALSE(std::filesystem::exists(root() / "var/lib/cnmkit/backup"));

  const auto st = ctl({"status", "--json"});
  ASSERT_EQ(st.exit_code, 0) << st.err;
  const auto js = nlohmann::json::parse(st.out);
  EXPECT_FALSE(js["installed"].get<bool>());
  EXPECT_EQ(js["kept"], nlohmann::json::array({kept_as})) << st.out;

  // Nothing left to undo; the copy stays as it was.
  const auto before = test::snapshot(root());
  const auto again = ctl({"uninstall"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing installed by cnmkit"), std::string::npos) << again.out;
  EXPECT_EQ(test::tree_diff(before, test::snapshot(root())), "");
}

// Standalone, /etc/cnmkit removed after install (the config there before cnmkit, the token
// cnmkit made): every other file and folder of cnmkit's still goes, the config's original is
// kept. A later install and uninstall leave that copy untouched; the next one goes beside it.
TEST_F(InstallerRoot, UninstallWithAFolderGoneUndoesEverythingElseAndNeverReplacesACopy) {
  test::write_file(config(), kUserConfig);
  const auto original = test::snapshot(root());
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  std::filesystem::remove_all(root() / "etc/cnmkit");
  const auto u = ctl({"uninstall"});
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_NE(u.out.find("keep the original of /etc/cnmkit/system-probe.yaml as "
                       "/var/lib/cnmkit/kept/etc/cnmkit/system-probe.yaml (/etc/cnmkit is gone: "
                       "not restored)\n"),
            std::string::npos)
      << u.out;
  EXPECT_NE(u.out.find("uninstalled\n"), std::string::npos) << u.out;
  EXPECT_EQ(test::tree_diff(original, test::snapshot(root())),
            "only before: etc/cnmkit\n"
            "only before: etc/cnmkit/system-probe.yaml\n"
            "only after: var\n"
            "only after: var/lib\n"
            "only after: var/lib/cnmkit\n"
            "only after: var/lib/cnmkit/kept\n"
            "only after: var/lib/cnmkit/kept/etc\n"
            "only after: var/lib/cnmkit/kept/etc/cnmkit\n"
            "only after: var/lib/cnmkit/kept/etc/cnmkit/system-probe.yaml\n");
  const auto kept = root() / "var/lib/cnmkit/kept/etc/cnmkit/system-probe.yaml";
  EXPECT_EQ(test::read_file(kept), kUserConfig);
  const auto first_copy = test::snapshot(root(), "etc");

  // An install that fails and rolls back its fresh state, then a normal install and
  // uninstall: the copy is not cnmkit's to remove.
  test::write_file(config(), kUserConfig);
  test::write_file(root() / "etc/init.d", "a file where the init folder should be\n");
  const auto failed = ctl(install_args());
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_FALSE(std::filesystem::exists(root() / "var/lib/cnmkit/state.json"));
  EXPECT_EQ(test::read_file(kept), kUserConfig);
  std::filesystem::remove(root() / "etc/init.d");
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  ASSERT_EQ(ctl({"uninstall"}).exit_code, 0);
  EXPECT_EQ(test::read_file(config()), kUserConfig);
  const auto after_cycle = test::snapshot(root(), "etc");
  EXPECT_EQ(test::tree_diff(first_copy, after_cycle), "");
  for (const auto& [p, n] : first_copy)  // the state folder's own mtime moves with the records
    if (n.type == 'f') {
      EXPECT_EQ(after_cycle.at(p).mtime_ns, n.mtime_ns) << p;
    }

  // Again with another original, folder removed again: the new copy goes beside the first.
  const std::string second = "network_config:\n  enabled: false\n# second original\n";
  test::write_file(config(), second);
  ASSERT_EQ(ctl(install_args()).exit_code, 0);
  std::filesystem::remove_all(root() / "etc/cnmkit");
  const auto u2 = ctl({"uninstall", "--json"});
  ASSERT_EQ(u2.exit_code, 0) << u2.err;
  EXPECT_EQ(nlohmann::json::parse(u2.out)["kept"][0]["kept_as"],
            "/var/lib/cnmkit/kept/etc/cnmkit/system-probe.yaml.1");
  EXPECT_EQ(test::read_file(kept), kUserConfig);
  EXPECT_EQ(test::read_file(kept.string() + ".1"), second);
}

// Uninstall's last step restarts the agent where one exists (the real runs are in the
// nspawn and SysV host tests); without an agent, or with manager none, nothing is restarted.
TEST_F(InstallerRoot, UninstallRestartsTheAgentOnlyWhenOneExists) {
  const Layout layout = default_layout(root());
  ServiceState with_agent;
  with_agent.agent_present = true;
  const auto sd = agent_restart_after_uninstall(ServiceManager::Systemd, layout, with_agent);
  ASSERT_EQ(sd.size(), 1u);
  EXPECT_EQ(sd[0].argv,
            (std::vector<std::string>{"systemctl", "restart", "datadog-agent.service"}));
  const auto sv = agent_restart_after_uninstall(ServiceManager::Sysv, layout, with_agent);
  ASSERT_EQ(sv.size(), 1u);
  EXPECT_EQ(sv[0].argv, (std::vector<std::string>{"service", "datadog-agent", "restart"}));
  EXPECT_TRUE(agent_restart_after_uninstall(ServiceManager::None, layout, with_agent).empty());
  EXPECT_TRUE(agent_restart_after_uninstall(ServiceManager::Sysv, layout, ServiceState{}).empty());
}

// The plan names the endpoint the health check asks: the Agent's system-probe has no /health.
TEST_F(InstallerRoot, PlanNamesTheEndpointTheHealthCheckAsks) {
  ServiceState with_agent;
  with_agent.agent_present = true;
  Plan agent;
  plan_services(agent, ServiceManager::Systemd, default_layout(root(), ProbeMode::Agent),
                with_agent, false, true, false);
  ASSERT_TRUE(agent.health_check);
  EXPECT_NE(plan_text(agent, false).find("check the probe's /debug/stats answers\n"),
            std::string::npos)
      << plan_text(agent, false);
  Plan standalone;
  plan_services(standalone, ServiceManager::Systemd, default_layout(root(), ProbeMode::Standalone),
                ServiceState{}, true, true, true);
  ASSERT_TRUE(standalone.health_check);
  EXPECT_NE(plan_text(standalone, false).find("check the probe's /health answers\n"),
            std::string::npos)
      << plan_text(standalone, false);
}

}  // namespace
}  // namespace cnm
