// The Datadog Agent's environment file (/etc/datadog-agent/environment, read by its systemd units:
// `EnvironmentFile=-/etc/datadog-agent/environment` in datadog-agent-sysprobe.service; its SysV
// scripts do not read it): a variable there overrides the system-probe.yaml key it is bound to
// (pkg/config/setup/system_probe.go, BindEnv), so a file edit that it contradicts changes
// nothing. The variables bound to what cnmkit sets or relies on, read for the preflight and the
// install.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/host_fs.h"
#include "common/layout.h"

namespace cnm {

struct EnvOverride {
  std::string variable;  // "DD_SYSTEM_PROBE_NETWORK_ENABLED"
  std::string value;     // as written, quotes removed
  std::string key;       // the system-probe.yaml key it overrides
  // An enable variable the Agent reads as false (anything strconv.ParseBool does not take for
  // true: viper's reading).
  bool disables = false;
  std::string source;  // the file that sets it
};

// The environment file beside the Agent's configuration (layout.config_dir).
std::string agent_env_file(const Layout& layout);

// The overrides that file sets, where the Agent's system-probe unit reads it (a unit of
// layout.probe_service naming it in /etc, /lib or /usr/lib systemd/system; on the live host,
// systemd running: /run/systemd/system); none otherwise. Lines as systemd reads an
// EnvironmentFile: KEY=VALUE, blank lines and those starting with # or ; ignored, a line ending
// in a backslash continued on the next, one pair of surrounding quotes removed; an empty value
// sets nothing (the Agent's config ignores an empty variable).
std::vector<EnvOverride> agent_env_overrides(const HostFs& fs, const Layout& layout);

// On a SysV host, the Agent's system-probe init script (layout.sysv_init_dir/probe_service)
// sources /etc/default/NAME (Debian's, omnibus sysvinit_debian.sysprobe.erb) or
// /etc/sysconfig/NAME (Red Hat's, the installer's sysvinit_redhat.sysprobe.erb) and exits
// without starting the probe ("Disabled via ...") where it sets DATADOG_ENABLED=no; nothing else
// of the file reaches the probe (the scripts export nothing). The file that does so, of those
// the script names; nullopt otherwise.
std::optional<std::string> sysv_probe_disabled_by(const HostFs& fs, const Layout& layout);

// The Agent's Fleet Automation policies: its system-probe merges <fleet_policies_dir>/
// system-probe.yaml over its own system-probe.yaml key by key, above the environment
// (pkg/system-probe/config applyFleetPolicy, MergeFleetPolicy; SourceFleetPolicies ranks above
// SourceEnvVar), the folder being DD_FLEET_POLICIES_DIR as its unit sets it (the Datadog
// installer's units: /etc/datadog-agent/managed/datadog-agent/stable). The keys of kBound it
// sets, `variable` empty; none where no unit names the folder, or the file is not YAML. An enable
// key disables where the Agent reads its value as false.
std::vector<EnvOverride> agent_policy_overrides(const HostFs& fs, const Layout& layout);

// What the Agent's system-probe reads its settings from, read once: one walk of its unit and
// drop-ins, one read each of its environment file, its system-probe.yaml and its Fleet
// Automation policy. A preflight or a plan reads them once and asks the functions below.
struct AgentSources {
  bool reads_env_file = false;                   // a unit of the probe names the file
  std::vector<std::string> env_lines;            // its lines, as systemd reads them
  std::map<std::string, std::string> unit_vars;  // what the unit's Environment= sets
  std::optional<YAML::Node> config;              // layout.config_file, when it is YAML
  std::optional<YAML::Node> policy;              // the policy's system-probe.yaml, when YAML
  std::string policy_file;
};
AgentSources read_agent_sources(const HostFs& fs, const Layout& layout);

// What overrides the keys of kBound, as the Agent ranks them: agent_env_overrides, less those
// whose key a policy sets, then agent_policy_overrides.
std::vector<EnvOverride> agent_overrides(const AgentSources& sources, const Layout& layout);
std::vector<EnvOverride> agent_overrides(const HostFs& fs, const Layout& layout);

// A list setting of the Agent's system-probe and where it comes from ("KEY in FILE", "VAR in
// FILE").
struct AgentList {
  std::vector<std::string> values;
  std::string source;
};

// system_probe_config.excluded_linux_versions as the Agent's system-probe reads it: the kernel
// versions ("5.10.237") on which its network tracer refuses to start (pkg/network/tracer
// IsTracerSupportedByOS: the host's LINUX_VERSION_CODE equal to one of them). From its Fleet
// Automation policy, else DD_SYSTEM_PROBE_CONFIG_EXCLUDED_LINUX_VERSIONS (blank-separated) where
// its unit sets it, else its system-probe.yaml (a list, or a blank-separated string); nullopt
// where none sets it.
std::optional<AgentList> agent_excluded_linux_versions(const AgentSources& sources,
                                                       const Layout& layout);

// "VAR=VALUE in FILE overrides KEY" (or "KEY: VALUE in FILE (a Fleet Automation policy)
// overrides it in CONFIG") for each, joined with "; ".
std::string describe_overrides(const std::vector<EnvOverride>& o, const Layout& layout);

}  // namespace cnm
