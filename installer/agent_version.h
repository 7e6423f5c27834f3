// The Datadog Agent version decides the config key and whether the probe service must be
// started by hand (seed: 7.24.1 renamed the section; 6.18/7.18 start the probe themselves).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/agent_keys.h"
#include "common/layout.h"
#include "common/version.h"

namespace cnm {

struct AgentInfo {
  std::optional<Version> version;
  std::string source;  // "--agent-version", "dpkg status", the manifest path, or "" (none found)
};

// --agent-version if given (throws std::invalid_argument when unreadable), else the host's
// dpkg status, else the agent's version manifest.
AgentInfo detect_agent(const Layout& layout, const std::string& given);

// The keys set to true to enable network monitoring: "network_config.enabled"; for agents
// before 7.24.1 (6.24.1 on the 6.x line), which read "system_probe_config.enabled", that one
// first and the current one too: from 7.24.1 the Agent reads system_probe_config.enabled only
// when network_config.enabled is not set at all (pkg/config/setup adjust: `!cfg.IsSet(netNS
// ("enabled"))`), so a file holding `network_config.enabled: false` (as examples do) would
// turn monitoring off at the Agent's upgrade. Unknown agent: the current key.
std::vector<std::string> enable_keys(const std::optional<Version>& agent);
// Every key enable_keys() may answer, whatever the agent.
inline constexpr const char* kEnableKeys[] = {kNetworkEnableKey, kSystemProbeEnableKey};

// Agents before 6.18 / 7.18 do not start the system-probe service themselves.
bool probe_needs_explicit_start(const std::optional<Version>& agent);

}  // namespace cnm
