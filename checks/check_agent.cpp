// agent.version: the seed's version gates for the Datadog Agent that consumes the probe.
#include "checks/check.h"

namespace cnm {
namespace {

CheckResult agent_version(const HostFacts& f) {
  if (!f.agent_version) {
    if (!f.agent_version_error.empty())
      return warn(f.agent_version_error, "pass it explicitly: --agent-version X.Y.Z");
    return skip("no agent installed (dpkg status, " + f.layout.agent_version_manifest +
                ") and no --agent-version");
  }
  const auto& v = *f.agent_version;
  const std::string is = "agent " + v.str() + " (from " + f.agent_version_source + ")";
  std::vector<std::string> notes, remedies;
  CheckResult r;
  if (v < V("6.14")) {
    notes.push_back("older than 6.14: live process collection must be enabled for CNM");
    remedies.push_back("set process_config.enabled: \"true\" in datadog.yaml, or upgrade");
  }
  const bool manual_start = v.at(0) <= 6 ? v < V("6.18") : v < V("7.18");
  if (manual_start) {
    notes.push_back("older than 6.18/7.18: the system-probe service is not started by the agent");
    remedies.push_back(
        "cnmctl install starts it; by hand: systemctl enable --now datadog-agent-sysprobe");
  }
  if (v < V("7.24.1"))
    notes.push_back(
        "older than 7.24.1: the config section is system_probe_config, not "
        "network_config (cnmctl config enable writes the right one)");
  if (v < V("7.59")) {
    notes.push_back("older than 7.59: failed TCP connections are under-reported");
    remedies.push_back("upgrade the agent to 7.59+ for complete failed-connection data");
    r.features["tcp_failed_connections"] = false;
  }
  if (notes.empty()) {
    r.status = Status::Pass;
    r.message = is + " passes every version gate";
    return r;
  }
  std::string msg = is + ": ";
  for (std::size_t i = 0; i < notes.size(); ++i) msg += (i ? "; " : "") + notes[i];
  std::string rem;
  for (std::size_t i = 0; i < remedies.size(); ++i) rem += (i ? "; " : "") + remedies[i];
  auto features = r.features;
  r = remedies.empty() ? pass(msg) : warn(msg, rem);
  r.features = features;
  return r;
}

}  // namespace

void add_agent_checks(std::vector<CheckDef>& out) {
  out.push_back({"agent.version", agent_version});
}

}  // namespace cnm
