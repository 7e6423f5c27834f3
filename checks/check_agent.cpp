// agent.version: the seed's version gates for the Datadog Agent that consumes the probe.
// agent.environment: variables of the Agent's environment file that override what cnmctl
// writes into system-probe.yaml, and the SysV defaults file that keeps its system-probe from
// starting (common/agent_env.h).
// agent.excluded_kernel: the Agent's own list of kernels its network tracer refuses.
#include <algorithm>

#include "checks/check.h"
#include "checks/kernel_code.h"
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

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Whether SysV starts the services (the Agent's init scripts, not its systemd units): on the
// live host systemd is not running; under --root the tree has no systemd to boot.
bool starts_with_sysv(const HostFs& fs) {
  if (fs.is_live()) return !fs.exists("/run/systemd/system");
  return !fs.exists("/lib/systemd/systemd") && !fs.exists("/usr/lib/systemd/systemd");
}

// Each finding with its remedy: the SysV defaults file that keeps the Agent's system-probe from
// starting, and the environment file's overrides of the keys cnmctl sets.
CheckResult agent_environment(const HostFacts& f) {
  if (f.layout.mode != ProbeMode::Agent)
    return skip("cnm-probe does not read the Agent's environment file");
  std::vector<std::string> findings, remedies;
  if (starts_with_sysv(f.fs))
    if (const auto off = sysv_probe_disabled_by(f.fs, f.layout)) {
      findings.push_back(*off +
                         " sets DATADOG_ENABLED=no: the Agent's init script does not start its "
                         "system-probe (at boot, or by `service " +
                         f.layout.probe_service + " start`)");
      remedies.push_back("remove DATADOG_ENABLED=no from " + *off + " (or set it yes), then run " +
                         "service " + f.layout.probe_service + " start");
    }
  const auto overrides = agent_overrides(f.agent_sources, f.layout);
  if (!overrides.empty()) {
    const auto disabling = std::find_if(overrides.begin(), overrides.end(),
                                        [](const EnvOverride& o) { return o.disables; });
    const auto text = describe_overrides(overrides, f.layout);
    if (disabling != overrides.end()) {
      findings.push_back(text + ": network monitoring stays off whatever system-probe.yaml says");
      remedies.push_back(
          "remove " + (disabling->variable.empty() ? disabling->key : disabling->variable) +
          " from " + disabling->source +
          (disabling->variable.empty() ? " (the Fleet Automation policy that wrote it)" : "") +
          " (or set it true), then restart the Agent");
    } else {
      findings.push_back(text + ": the Agent reads that, not system-probe.yaml");
      remedies.push_back(
          "remove the variable unless it is meant: cnmctl edits system-probe.yaml only");
    }
  }
  if (findings.empty())
    return pass("no variable of the Agent's environment (" + agent_env_file(f.layout) +
                ", where its units read it) nor Fleet Automation policy overrides the keys cnmctl "
                "sets, and no SysV defaults file keeps its system-probe off");
  return warn(join(findings, "; "), join(remedies, "; "));
}

std::string join_words(const std::vector<std::string>& v) { return join(v, " "); }

// The entries the Agent reads as another version than they spell (its ParseVersion: see
// kernel_code.h), and those it reads as none, which exclude nothing, whatever was meant.
std::string misread_entries(const std::vector<std::string>& entries) {
  std::vector<std::string> unread, other;
  for (const auto& e : entries) {
    const auto v = parse_version_entry(e);
    if (v.is_zero())
      unread.push_back("'" + e + "'");
    else if (v.text() != e)
      other.push_back("'" + e + "' as " + v.text());
  }
  std::string out;
  if (!other.empty()) out += "; the Agent reads " + join_words(other);
  if (!unread.empty())
    out += "; " + join_words(unread) +
           " read as no version (the Agent wants MAJOR.MINOR.PATCH, each 0 to 255) and exclude "
           "nothing";
  return out;
}

// system_probe_config.excluded_linux_versions (common/agent_env.h): the Agent's network tracer
// refuses to start on a kernel whose version code it lists, however well the host supports
// eBPF, and its system-probe still runs (and answers the health check) without it.
CheckResult agent_excluded_kernel(const HostFacts& f) {
  if (f.layout.mode != ProbeMode::Agent)
    return skip("cnm-probe does not read system_probe_config.excluded_linux_versions");
  const auto list = agent_excluded_linux_versions(f.agent_sources, f.layout);
  if (!list || list->values.empty())
    return pass("the Agent's configuration excludes no kernel version from network monitoring");
  const auto code = linux_version_code(f);
  const std::string listed = list->source + " lists " + join_words(list->values);
  if (!code && f.fs.is_live() && f.kernel_source == "uname")
    return warn(listed +
                    "; this kernel's version code cannot be read from its vDSO, where the "
                    "Agent reads it (a kernel booted with vdso=0?): its network tracer will not "
                    "start",
                "boot the kernel with its vDSO (remove vdso=0 from the kernel command line)");
  if (!code)
    return warn(listed + "; this kernel's version code (" + f.kernel_release +
                    ") is unknown here, so whether it is among them cannot be told",
                "run the preflight on the host itself (it reads the version from the kernel)");
  for (const auto& entry : list->values)
    if (const auto v = parse_version_entry(entry); !v.is_zero() && v == *code)
      return fail(listed + ": the Agent's network tracer refuses this kernel (version " +
                      code->text() + ", from " + code->source +
                      "), so network monitoring stays off",
                  "remove " + entry + " from " + list->source +
                      " if this kernel is fit for eBPF, then restart the Agent");
  return pass(listed + ", not this kernel (version " + code->text() + ", from " + code->source +
              ")" + misread_entries(list->values));
}

}  // namespace

void add_agent_checks(std::vector<CheckDef>& out) {
  out.push_back({"agent.version", agent_version});
  out.push_back({"agent.environment", agent_environment});
  out.push_back({"agent.excluded_kernel", agent_excluded_kernel});
}

}  // namespace cnm
