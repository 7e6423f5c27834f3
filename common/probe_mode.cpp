#include "common/probe_mode.h"

#include <stdexcept>

#include "common/agent.h"

namespace cnm {

ModeChoice choose_probe_mode(const HostFs& fs, const Layout& agent_layout,
                             std::string_view requested) {
  if (requested != "auto") {
    const ProbeMode m = parse_probe_mode(requested);
    return {m, std::string("--probe ") + to_string(m)};
  }
  const auto agent = detect_agent_version(fs, agent_layout, std::nullopt);
  if (agent.version)
    return {ProbeMode::Agent, "Datadog Agent " + agent.version->str() + " (" + agent.source + ")"};
  if (!agent.source.empty() || !agent.error.empty())
    return {ProbeMode::Agent, "Datadog Agent of unknown version (" + agent.error + ")"};
  if (fs.exists(agent_layout.probe_binary))
    return {ProbeMode::Agent, "the Datadog Agent's " + agent_layout.probe_binary};
  return {ProbeMode::Standalone, "no Datadog Agent installed"};
}

}  // namespace cnm
