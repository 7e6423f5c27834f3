// agent.version: the seed's version gates for the Datadog Agent that consumes the probe.
// agent.environment: variables of the Agent's environment file that override what cnmctl
// writes into system-probe.yaml, and the SysV defaults file that keeps its system-probe from
// starting (common/agent_env.h).
#include "checks/check.h"
#include "common/agent_env.h"

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
  const auto gates = agent_gates(v);
  if (gates.needs_live_process_collection) {
    notes.push_back("older than 6.14: live process collection must be enabled for CNM");
    remedies.push_back("set process_config.enabled: \"true\" in datadog.yaml, or upgrade");
  }
  if (gates.probe_needs_explicit_start) {
    notes.push_back("older than 6.18/7.18: the system-probe service is not started by the agent");
    remedies.push_back(
        "cnmctl install starts it; by hand: systemctl enable --now datadog-agent-sysprobe");
  }
  if (gates.uses_system_probe_config)
    notes.push_back(
        "older than 6.24.1/7.24.1: the config section is system_probe_config, not "
        "network_config (cnmctl config enable writes the right one)");
  if (gates.under_reports_failed_tcp) {
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

CheckResult agent_environment(const HostFacts& f) {
  if (f.layout.mode != ProbeMode::Agent)
    return skip("cnm-probe does not read the Agent's environment file");
  if (const auto off = sysv_probe_disabled_by(f.fs, f.layout))
    return warn(*off +
                    " sets DATADOG_ENABLED=no: where SysV starts the Agent (no systemd), its "
                    "init script exits without starting the system-probe",
                "remove DATADOG_ENABLED=no from " + *off +
                    " (or set it yes), then start the probe: service " + f.layout.probe_service +
                    " start");
  const auto overrides = agent_env_overrides(f.fs, f.layout);
  if (overrides.empty())
    return pass("no variable of the Agent's environment (" + agent_env_file(f.layout) +
                ", where its units read it) overrides the keys cnmctl sets");
  const auto text = describe_overrides(overrides, f.layout);
  for (const auto& o : overrides)
    if (o.disables)
      return warn(text + ": network monitoring stays off whatever system-probe.yaml says",
                  "remove " + o.variable + " from " + agent_env_file(f.layout) +
                      " (or set it true), then restart the Agent");
  return warn(text + ": the Agent reads the variable, not system-probe.yaml",
              "remove the variable unless it is meant: cnmctl edits system-probe.yaml only");
}

}  // namespace

void add_agent_checks(std::vector<CheckDef>& out) {
  out.push_back({"agent.version", agent_version});
  out.push_back({"agent.environment", agent_environment});
}

}  // namespace cnm
