// The Datadog Agent's environment file (/etc/datadog-agent/environment: its systemd units'
// EnvironmentFile=): a variable there overrides the system-probe.yaml key it is bound to
// (pkg/config/setup/system_probe.go, BindEnv), so a file edit that it contradicts changes
// nothing. The variables bound to what cnmkit sets or relies on, read for the preflight and the
// install.
#pragma once

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
};

// The overrides the environment file beside the Agent's configuration (layout.config_dir)
// sets; none when it is absent. Lines as systemd reads an EnvironmentFile: KEY=VALUE, blank
// lines and those starting with # or ; ignored, one pair of surrounding quotes removed.
std::vector<EnvOverride> agent_env_overrides(const HostFs& fs, const Layout& layout);

// "VAR=VALUE in FILE overrides KEY" for each, joined with "; ".
std::string describe_overrides(const std::vector<EnvOverride>& o, const Layout& layout);

}  // namespace cnm
