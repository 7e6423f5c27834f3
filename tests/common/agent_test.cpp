#include "common/agent.h"
#include "common/agent_env.h"
#include "common/probe_mode.h"

#include <gtest/gtest.h>

#include "tests/support/test_support.h"

namespace cnm {
namespace {

TEST(AgentGates, SevenXGatesApplyInLockstepOnTheSixLine) {
  EXPECT_TRUE(agent_gates(V("6.13.0")).needs_live_process_collection);
  EXPECT_TRUE(agent_gates(V("7.13.0")).needs_live_process_collection);
  EXPECT_FALSE(agent_gates(V("6.14.0")).needs_live_process_collection);
  EXPECT_TRUE(agent_gates(V("6.17.9")).probe_needs_explicit_start);
  EXPECT_FALSE(agent_gates(V("6.18.0")).probe_needs_explicit_start);
  EXPECT_TRUE(agent_gates(V("7.17.0")).probe_needs_explicit_start);
  EXPECT_FALSE(agent_gates(V("7.18.0")).probe_needs_explicit_start);
  // 6.30 came after 6.24.1: network_config, like 7.30.
  EXPECT_FALSE(agent_gates(V("6.30.0")).uses_system_probe_config);
  EXPECT_TRUE(agent_gates(V("6.24.0")).uses_system_probe_config);
  EXPECT_TRUE(agent_gates(V("7.24.0")).uses_system_probe_config);
  EXPECT_FALSE(agent_gates(V("7.24.1")).uses_system_probe_config);
  EXPECT_TRUE(agent_gates(V("7.58.2")).under_reports_failed_tcp);
  EXPECT_FALSE(agent_gates(V("7.59.0")).under_reports_failed_tcp);
  EXPECT_TRUE(agent_gates(V("6.53.0")).under_reports_failed_tcp);
  EXPECT_TRUE(agent_gates(V("6.24.1")).istio_supported);
  EXPECT_FALSE(agent_gates(V("7.24.0")).istio_supported);
}

TEST(AgentVersion, DpkgStatusCountsHeldPackagesAndIgnoresRemovedOnes) {
  EXPECT_EQ(agent_version_from_dpkg_status("Package: datadog-agent\nStatus: hold ok installed\n"
                                           "Version: 1:7.50.3-1\n")
                ->str(),
            "7.50.3");
  EXPECT_FALSE(agent_version_from_dpkg_status(
      "Package: datadog-agent\nStatus: deinstall ok config-files\nVersion: 1:7.50.3-1\n\n"));
  EXPECT_EQ(agent_version_from_dpkg_status("Package: datadog-agent\r\nStatus: install ok "
                                           "installed\r\nVersion: 7.1.0\r\n\r\n")
                ->str(),
            "7.1.0");
  EXPECT_FALSE(agent_version_from_dpkg_status("Package: other\nStatus: install ok installed\n"));
}

TEST(AgentVersion, FlagWinsThenDpkgThenManifest) {
  test::TempDir d;
  const auto layout = default_layout(d.path());
  const HostFs fs(d.path());
  EXPECT_FALSE(detect_agent_version(fs, layout, std::nullopt).version);
  test::write_file(d / "opt/datadog-agent/version-manifest.json", R"({"build_version":"7.40.0"})");
  EXPECT_EQ(detect_agent_version(fs, layout, std::nullopt).version->str(), "7.40.0");
  test::write_file(d / "var/lib/dpkg/info/datadog-agent.list", "/.\n");
  test::write_file(d / "var/lib/dpkg/status",
                   "Package: datadog-agent\nStatus: install ok installed\nVersion: 1:7.45.0-1\n");
  EXPECT_EQ(detect_agent_version(fs, layout, std::nullopt).version->str(), "7.45.0");
  EXPECT_EQ(detect_agent_version(fs, layout, std::string("6.30.1")).version->str(), "6.30.1");
  const auto bad = detect_agent_version(fs, layout, std::string("latest"));
  EXPECT_FALSE(bad.version);
  EXPECT_NE(bad.error.find("latest"), std::string::npos);
}

// An Agent the Datadog installer put in place has no package in dpkg's or rpm's database and
// nothing under /opt/datadog-agent: its manifest in the installer's stable folder names it, so
// --probe auto configures it rather than putting cnm-probe beside it.
TEST(AgentVersion, TheDatadogInstallersAgentIsFound) {
  test::TempDir d;
  const auto layout = default_layout(d.path());
  const HostFs fs(d.path());
  test::write_file(d / std::string(kInstallerAgentManifest).substr(1),
                   R"({"build_version":"7.63.0-1"})");
  const auto a = detect_agent_version(fs, layout, std::nullopt);
  ASSERT_TRUE(a.version);
  EXPECT_EQ(a.version->str(), "7.63.0");
  EXPECT_EQ(a.source, kInstallerAgentManifest);
  const auto choice = choose_probe_mode(fs, layout, "auto");
  EXPECT_EQ(choice.mode, ProbeMode::Agent);
  EXPECT_NE(choice.why.find(kInstallerAgentManifest), std::string::npos) << choice.why;
  // Its files are under the package folder's "stable" link (the units' ExecStart, the socket
  // beside the executable): the agent layout follows, the config stays /etc/datadog-agent.
  const auto installer = default_layout(d.path());
  const std::string stable = "/opt/datadog-packages/datadog-agent/stable";
  EXPECT_EQ(installer.probe_binary, stable + "/embedded/bin/system-probe");
  EXPECT_EQ(installer.probe_socket, stable + "/run/sysprobe.sock");
  EXPECT_EQ(installer.run_dir, stable + "/run");
  EXPECT_EQ(installer.bpf_object_dir, stable + "/embedded/share/system-probe/ebpf");
  EXPECT_EQ(installer.agent_version_manifest, kInstallerAgentManifest);
  EXPECT_EQ(installer.config_file, "/etc/datadog-agent/system-probe.yaml");
  EXPECT_EQ(layout_overrides_yaml(installer), "{}\n") << "the host's defaults, nothing overridden";
  EXPECT_EQ(default_layout(d.path(), ProbeMode::Standalone).probe_binary,
            "/opt/cnmkit/bin/cnm-probe");
  // The package's own manifest, when both are there, is the one read, and its paths are used
  // (a deb or rpm Agent links the installer's folder to its own).
  test::write_file(d / "opt/datadog-agent/version-manifest.json", R"({"build_version":"7.40.0"})");
  EXPECT_EQ(detect_agent_version(fs, layout, std::nullopt).version->str(), "7.40.0");
  EXPECT_EQ(default_layout(d.path()).probe_socket, "/opt/datadog-agent/run/sysprobe.sock");
}

// The Agent's environment file as systemd reads an EnvironmentFile: comments, blanks, quotes;
// a later line wins; only the variables bound to keys cnmctl sets or relies on; the enable
// ones read as Go's strconv.ParseBool does (viper), anything but its true spellings is false.
TEST(AgentEnvironment, OverridesAreReadAsSystemdAndTheAgentReadThem) {
  test::TempDir d;
  const auto layout = default_layout(d.path());
  const HostFs fs(d.path());
  EXPECT_TRUE(agent_env_overrides(fs, layout).empty());  // no file
  test::write_file(d / "etc/datadog-agent/environment", "DD_SYSTEM_PROBE_ENABLED=false\n");
  EXPECT_TRUE(agent_env_overrides(fs, layout).empty());  // no unit reads it: a SysV host
  test::write_file(d / "lib/systemd/system/datadog-agent-sysprobe.service",
                   "[Service]\nEnvironmentFile=-/etc/datadog-agent/environment\n");
  test::write_file(d / "etc/datadog-agent/environment",
                   "# DD_SYSTEM_PROBE_NETWORK_ENABLED=false\n"
                   "; DD_SYSTEM_PROBE_ENABLED=false\n"
                   "\n"
                   "DD_API_KEY=abc\n"
                   "DD_SYSTEM_PROBE_NETWORK_ENABLED=\"false\"\n"
                   "DD_SYSTEM_PROBE_ENABLED=yes\n"
                   "  DD_SYSPROBE_SOCKET = '/run/sp.sock'\r\n"
                   "DD_SYSTEM_PROBE_NETWORK_ENABLED=T\n"
                   "DD_API_KEY=x\\\n"
                   "DD_SYSTEM_PROBE_NETWORK_ENABLED=false\n"  // continues DD_API_KEY's line
                   "DD_SITE=a\\\\\n"               // an escaped backslash: no continuation
                   "DD_SYSTEM_PROBE_ENABLED=\n");  // empty: clears yes
  ASSERT_EQ(agent_env_file(layout), "/etc/datadog-agent/environment");
  auto o = agent_env_overrides(fs, layout);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_EQ(o[0].variable, "DD_SYSPROBE_SOCKET");
  EXPECT_EQ(o[0].value, "/run/sp.sock");
  EXPECT_EQ(o[0].key, "system_probe_config.sysprobe_socket");
  EXPECT_FALSE(o[0].disables);
  EXPECT_EQ(o[1].variable, "DD_SYSTEM_PROBE_NETWORK_ENABLED");  // the later line, true
  EXPECT_FALSE(o[1].disables);
  EXPECT_NE(describe_overrides(o, layout).find("DD_SYSPROBE_SOCKET=/run/sp.sock in "
                                               "/etc/datadog-agent/environment overrides "
                                               "system_probe_config.sysprobe_socket"),
            std::string::npos);
  // "yes" is no ParseBool true: it turns the key off; a comment ending in a backslash does not
  // go on (systemd 254+), so the line after it is read.
  test::write_file(d / "etc/datadog-agent/environment",
                   "DD_SYSTEM_PROBE_ENABLED=yes\n# note \\\nDD_SYSTEM_PROBE_NETWORK_ENABLED=0\n");
  o = agent_env_overrides(fs, layout);
  ASSERT_EQ(o.size(), 2u);
  EXPECT_TRUE(o[0].disables);
  EXPECT_TRUE(o[1].disables);
  // The unit in /etc hides the one in /lib; its drop-ins add or clear the file.
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service", "[Service]\n");
  EXPECT_TRUE(agent_env_overrides(fs, layout).empty());
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service.d/env.conf",
                   "[Service]\nEnvironmentFile = -/etc/datadog-agent/environment\n");
  EXPECT_EQ(agent_env_overrides(fs, layout).size(), 2u);
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service.d/zz-off.conf",
                   "[Service]\nEnvironmentFile=\n");
  EXPECT_TRUE(agent_env_overrides(fs, layout).empty());
}

// A manifest that does not parse says so; one that parses but lacks the key says that.
// The defaults file the Agent's SysV system-probe script sources: read as sh reads it, each
// case checked against the real sh (dash on Debian) sourcing the same file. Only the files the
// script names count (Debian's /etc/default, Red Hat's /etc/sysconfig).
TEST(AgentEnvironment, ASysvDefaultsFileIsReadAsShReadsIt) {
  const test::TempDir d;
  const Layout layout = default_layout(d.path(), ProbeMode::Agent);
  test::write_file(d / "etc/init.d/datadog-agent-sysprobe",
                   "#!/bin/sh\nNAME=datadog-agent-sysprobe\n[ -r \"/etc/default/$NAME\" ] && "
                   ". \"/etc/default/$NAME\"\n");
  const auto file = d / "etc/default/datadog-agent-sysprobe";
  const std::pair<const char*, bool> cases[] = {
      {"DATADOG_ENABLED=no\n", true},
      {"# DATADOG_ENABLED=no\nDATADOG_ENABLED=yes\n", false},
      {"DATADOG_ENABLED=yes\nexport DATADOG_ENABLED=\"no\" # off\n", true},
      {"  DATADOG_ENABLED='no'   # x\n", true},
      {"export\tDATADOG_ENABLED=no\n", true},
      {"readonly DATADOG_ENABLED=no\n", true},
      {"DATADOG_ENABLED=no#x\n", false},
      {"DATADOG_ENABLED=no; DATADOG_ENABLED=yes\n", false},
      {"A=1 DATADOG_ENABLED=no\n", true},
      {"DATADOG_ENABLED=\"n\"o\n", true},
      {"DATADOG_ENABLEDX=no\n", false},
      {"DATADOG_ENABLED=no\r\n", false},
      {"DATADOG_ENABLED=no\nunset DATADOG_ENABLED\n", false},
      {"DATADOG_ENABLED=no true\n", false},
      {"DATADOG_ENABLED = no\n", false},
  };
  for (const auto& [text, off] : cases) {
    test::write_file(file, text);
    EXPECT_EQ(sysv_probe_disabled_by(HostFs(d.path()), layout).has_value(), off) << text;
    const auto sh =
        test::run({"/bin/sh", "-c", ". \"$1\" >/dev/null 2>&1; printf %s \"${DATADOG_ENABLED-}\"",
                   "sh", file.string()});
    EXPECT_EQ(sh.out == "no", off) << "sh reads " << text << " as " << sh.out;
  }
  // A file the script does not source changes nothing.
  test::write_file(file, "DATADOG_ENABLED=no\n");
  test::write_file(d / "etc/init.d/datadog-agent-sysprobe",
                   "#!/bin/sh\n. /etc/sysconfig/datadog-agent-sysprobe\n");
  EXPECT_FALSE(sysv_probe_disabled_by(HostFs(d.path()), layout));
  test::write_file(d / "etc/sysconfig/datadog-agent-sysprobe", "DATADOG_ENABLED=no\n");
  EXPECT_EQ(sysv_probe_disabled_by(HostFs(d.path()), layout),
            std::optional<std::string>("/etc/sysconfig/datadog-agent-sysprobe"));
}

// A Fleet Automation policy: the folder the system-probe unit names in DD_FLEET_POLICIES_DIR
// (the Datadog installer's units), its system-probe.yaml merged over the Agent's own key by
// key, above the environment file.
TEST(AgentEnvironment, AFleetPolicyOverridesTheKeysItSets) {
  const test::TempDir d;
  const auto layout = default_layout(d.path());
  const HostFs fs(d.path());
  const std::string policies = "etc/datadog-agent/managed/datadog-agent/stable";
  test::write_file(d / policies / "system-probe.yaml",
                   "Network_Config.enabled: \"false\"\nsystem_probe_config:\n  enabled: true\n"
                   "  sysprobe_socket: /tmp/x.sock\n  other: 1\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).empty()) << "no unit names the folder";
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service",
                   "[Service]\nEnvironmentFile=-/etc/datadog-agent/environment\n"
                   "Environment=\"DD_FLEET_POLICIES_DIR=/" +
                       policies + "\" \"OTHER=1\"\n");
  auto p = agent_policy_overrides(fs, layout);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].key, "network_config.enabled");
  EXPECT_TRUE(p[0].disables);
  EXPECT_EQ(p[0].source, "/" + policies + "/system-probe.yaml");
  EXPECT_EQ(p[1].key, "system_probe_config.enabled");
  EXPECT_FALSE(p[1].disables);
  EXPECT_EQ(p[2].key, "system_probe_config.sysprobe_socket");
  EXPECT_NE(describe_overrides({p[0]}, layout)
                .find("network_config.enabled: false in /" + policies +
                      "/system-probe.yaml (a Fleet Automation policy) overrides it in "
                      "/etc/datadog-agent/system-probe.yaml"),
            std::string::npos)
      << describe_overrides({p[0]}, layout);
  // The policy ranks above the environment: a variable for the same key no longer counts.
  test::write_file(d / "etc/datadog-agent/environment",
                   "DD_SYSTEM_PROBE_NETWORK_ENABLED=true\nDD_SYSTEM_PROBE_ENABLED=false\n");
  const auto all = agent_overrides(fs, layout);
  ASSERT_EQ(all.size(), 3u);
  for (const auto& o : all) EXPECT_FALSE(o.variable == "DD_SYSTEM_PROBE_NETWORK_ENABLED");
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const EnvOverride& o) { return o.disables; }),
            1);
  // YAML 1.1's "no" is false for the Agent whichever reader it uses; "yes" is not taken as off.
  test::write_file(d / policies / "system-probe.yaml", "network_config:\n  enabled: no\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).at(0).disables);
  test::write_file(d / policies / "system-probe.yaml", "network_config:\n  enabled: yes\n");
  EXPECT_FALSE(agent_policy_overrides(fs, layout).at(0).disables);
  // Not YAML: the Agent cannot merge it either; nothing is read from it.
  test::write_file(d / policies / "system-probe.yaml", "network_config: [1, 2\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).empty());
  // The Agent reads YAML 1.1 then cast.ToBool: quoted text by strconv.ParseBool (a quoted
  // "yes" is false), an integer as != 0, a float false.
  for (const auto& [value, off] : std::vector<std::pair<std::string, bool>>{{"\"yes\"", true},
                                                                            {"1", false},
                                                                            {"0", true},
                                                                            {"1.0", true},
                                                                            {"\"true\"", false},
                                                                            {"On", false},
                                                                            {"disabled", true},
                                                                            {"''", true}}) {
    test::write_file(d / policies / "system-probe.yaml",
                     "network_config:\n  enabled: " + value + "\n");
    const auto got = agent_policy_overrides(fs, layout);
    ASSERT_EQ(got.size(), 1u) << value;
    EXPECT_EQ(got[0].disables, off) << value;
  }
  // An EnvironmentFile= the unit reads wins over its Environment= (systemd.exec).
  test::write_file(d / "etc/datadog-agent/environment", "DD_FLEET_POLICIES_DIR=/srv/policies\n");
  test::write_file(d / "srv/policies/system-probe.yaml", "network_config.enabled: false\n");
  test::write_file(d / policies / "system-probe.yaml", "network_config:\n  enabled: true\n");
  EXPECT_EQ(agent_policy_overrides(fs, layout).at(0).source, "/srv/policies/system-probe.yaml");
  std::filesystem::remove(d / "etc/datadog-agent/environment");
  // A drop-in's empty Environment= clears the unit's.
  test::write_file(d / policies / "system-probe.yaml", "network_config:\n  enabled: false\n");
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service.d/10-clear.conf",
                   "[Service]\nEnvironment=\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).empty());
  // Drop-ins of every unit folder in the order of their names, a name in /etc hiding the same
  // one in /lib; settings outside [Service] count for nothing; ';' is no separator there.
  test::write_file(d / "lib/systemd/system/datadog-agent-sysprobe.service.d/20-set.conf",
                   "[Service]\nEnvironment=DD_FLEET_POLICIES_DIR=/" + policies + "\n");
  EXPECT_EQ(agent_policy_overrides(fs, layout).size(), 1u) << "20-set.conf comes after 10-clear";
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service.d/20-set.conf",
                   "[Unit]\nEnvironment=DD_FLEET_POLICIES_DIR=/" + policies + "\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).empty()) << "/etc's 20-set.conf hides /lib's";
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service.d/20-set.conf",
                   "[Service]\nEnvironment=\"DD_FLEET_POLICIES_DIR=/" + policies + ";x\"\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).empty()) << "the folder is named ...;x";
  // A line ending in an escaped backslash continues nothing; one in an unescaped backslash goes
  // on with the next, a comment line inside it dropped (systemd 243 and later).
  test::write_file(
      d / "etc/systemd/system/datadog-agent-sysprobe.service.d/20-set.conf",
      "[Service]\nEnvironment=A=\\\\\nEnvironment=DD_FLEET_POLICIES_DIR=/" + policies + "\n");
  EXPECT_EQ(agent_policy_overrides(fs, layout).size(), 1u);
  test::write_file(
      d / "etc/systemd/system/datadog-agent-sysprobe.service.d/20-set.conf",
      "[Service]\nEnvironment=A=1 \\\n# a comment\n  DD_FLEET_POLICIES_DIR=/" + policies + "\n");
  EXPECT_EQ(agent_policy_overrides(fs, layout).size(), 1u);
  test::write_file(d / "etc/systemd/system/datadog-agent-sysprobe.service.d/20-set.conf",
                   "[Service]\nEnvironment=A=1 \\\n\n  DD_FLEET_POLICIES_DIR=/" + policies + "\n");
  EXPECT_TRUE(agent_policy_overrides(fs, layout).empty()) << "a blank line ends the continuation";
}

TEST(AgentVersion, ManifestNotJsonIsToldApartFromOneWithoutBuildVersion) {
  test::TempDir d;
  const auto layout = default_layout(d.path());
  const HostFs fs(d.path());
  test::write_file(d / "opt/datadog-agent/version-manifest.json", "build_version: 7.40.0\n");
  auto a = detect_agent_version(fs, layout, std::nullopt);
  EXPECT_FALSE(a.version);
  EXPECT_EQ(a.error, layout.agent_version_manifest + " is not JSON");
  test::write_file(d / "opt/datadog-agent/version-manifest.json", R"({"version":"7.40.0"})");
  a = detect_agent_version(fs, layout, std::nullopt);
  EXPECT_FALSE(a.version);
  EXPECT_EQ(a.error, layout.agent_version_manifest + " has no build_version");
}

}  // namespace
}  // namespace cnm
