// The Datadog Agent on a host: which version is installed, and what that version means for the
// probe (the seed's version gates). The preflight and the installer both ask here, so they
// never disagree about a host.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/host_fs.h"
#include "common/layout.h"
#include "common/version.h"

namespace cnm {

struct AgentVersion {
  std::optional<Version> version;
  std::string source;  // "--agent-version", "dpkg status of datadog-agent", the manifest path
  std::string error;   // an unreadable version given or found ("" when none)
};

// An Agent the Datadog installer put in place (remote updates, Fleet Automation) is not a
// deb or rpm: its files are in a package folder, the active one linked as "stable"
// (pkg/fleet/installer: InstallDir /opt/datadog-packages/datadog-agent/stable), with the
// version-manifest.json the build writes at its root; /etc/datadog-agent stays its config.
// (common/layout.h, kInstallerAgentDir).
inline constexpr const char* kInstallerAgentManifest =
    "/opt/datadog-packages/datadog-agent/stable/version-manifest.json";
static_assert(std::string_view(kInstallerAgentManifest).starts_with(kInstallerAgentDir));

// `given` (--agent-version) wins; else the dpkg status database; else the agent's
// version-manifest.json (build_version), the layout's, else the Datadog installer's
// (kInstallerAgentManifest). Nothing found: no version and no error.
AgentVersion detect_agent_version(const HostFs& fs, const Layout& layout,
                                  const std::optional<std::string>& given);

// The datadog-agent package's version in a dpkg status file (Debian control paragraphs);
// held packages ("hold ok installed") count as installed.
std::optional<Version> agent_version_from_dpkg_status(std::string_view status);

// Agent 6.x and 7.x ship in lockstep (6.N == 7.N): each 7.x gate applies as 6.x on the 6 line.
struct AgentGates {
  bool needs_live_process_collection;  // < 6.14
  bool probe_needs_explicit_start;     // < 6.18 / 7.18: the agent does not start system-probe
  bool uses_system_probe_config;       // < 6.24.1 / 7.24.1: section is system_probe_config
  bool under_reports_failed_tcp;       // < 7.59 (no 6.x release reaches it)
  bool istio_supported;                // >= 6.24.1 / 7.24.1
};
AgentGates agent_gates(const Version& v);

}  // namespace cnm
