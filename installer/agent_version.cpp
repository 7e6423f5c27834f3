#include "installer/agent_version.h"

#include <stdexcept>

#include "common/agent.h"
#include "common/host_fs.h"

namespace cnm {

AgentInfo detect_agent(const Layout& layout, const std::string& given) {
  const auto found = detect_agent_version(HostFs(layout.root), layout,
                                          given.empty() ? std::nullopt : std::optional(given));
  if (!given.empty() && !found.version)
    throw std::invalid_argument("--agent-version: cannot read '" + given + "'");
  // An unreadable installed version counts as unknown, as in the preflight's agent.version.
  return {found.version, found.version ? found.source : std::string()};
}

std::vector<std::string> enable_keys(const std::optional<Version>& agent) {
  if (agent && agent_gates(*agent).uses_system_probe_config)
    return {kSystemProbeEnableKey, kNetworkEnableKey};
  return {kNetworkEnableKey};
}

bool probe_needs_explicit_start(const std::optional<Version>& agent) {
  return !agent || agent_gates(*agent).probe_needs_explicit_start;
}

}  // namespace cnm
