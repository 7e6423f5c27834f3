#include "installer/agent_version.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "checks/host_facts.h"
#include "common/host_fs.h"

namespace cnm {
namespace {

// Agent 6.x and 7.x releases ship in lockstep (6.N == 7.N), so a 7.x gate maps to 6.x.
bool older_than(const Version& v, unsigned minor, unsigned patch) {
  const unsigned major = v.at(0) <= 6 ? 6 : 7;
  return v < Version{{major, minor, patch}, ""};
}

}  // namespace

AgentInfo detect_agent(const Layout& layout, const std::string& given) {
  AgentInfo a;
  if (!given.empty()) {
    a.version = Version::parse(given);
    if (!a.version) throw std::invalid_argument("--agent-version: cannot read '" + given + "'");
    a.source = "--agent-version";
    return a;
  }
  const HostFs fs(layout.root);
  if (const auto st = fs.read("/var/lib/dpkg/status", 64 * 1024 * 1024)) {
    if ((a.version = agent_version_from_dpkg_status(st->text))) {
      a.source = "dpkg status";
      return a;
    }
  }
  if (const auto t = fs.read(layout.agent_version_manifest, 1024 * 1024)) {
    const auto j = nlohmann::json::parse(t->text, nullptr, false);
    if (j.is_object() && j.contains("build_version") && j["build_version"].is_string())
      if ((a.version = Version::parse(j["build_version"].get<std::string>())))
        a.source = layout.agent_version_manifest;
  }
  return a;
}

std::string enable_key(const std::optional<Version>& agent) {
  if (agent && older_than(*agent, 24, 1)) return "system_probe_config.enabled";
  return "network_config.enabled";
}

bool probe_needs_explicit_start(const std::optional<Version>& agent) {
  return !agent || older_than(*agent, 18, 0);
}

}  // namespace cnm
