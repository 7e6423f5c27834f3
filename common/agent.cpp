#include "common/agent.h"

#include <nlohmann/json.hpp>

namespace cnm {
namespace {

bool older_than(const Version& v, std::uint32_t minor, std::uint32_t patch) {
  const std::uint32_t major = v.at(0) <= 6 ? 6 : 7;
  return v < Version{{major, minor, patch}, ""};
}

}  // namespace

AgentGates agent_gates(const Version& v) {
  AgentGates g{};
  g.needs_live_process_collection = older_than(v, 14, 0);
  g.probe_needs_explicit_start = older_than(v, 18, 0);
  g.uses_system_probe_config = older_than(v, 24, 1);
  g.under_reports_failed_tcp = v < Version{{7, 59}, ""};
  g.istio_supported = !older_than(v, 24, 1);
  return g;
}

std::optional<Version> agent_version_from_dpkg_status(std::string_view status) {
  // Debian control format: paragraphs of "Field: value" separated by blank lines. Status is
  // "WANT ok STATE"; the package is there when STATE is "installed" (held or not).
  bool is_agent = false, installed = false, found = false;
  std::string version, found_version;
  for_each_line(status, [&](std::string_view line) {
    if (found) return;
    if (trim(line).empty()) {
      if (is_agent && installed) {
        found = true;
        found_version = version;
      }
      is_agent = installed = false;
      version.clear();
      return;
    }
    if (line.starts_with("Package:")) is_agent = trim(line.substr(8)) == "datadog-agent";
    if (line.starts_with("Status:")) {
      const auto st = trim(line.substr(7));
      installed = st.ends_with(" ok installed");  // trimmed: never " ok installed" alone
    }
    if (line.starts_with("Version:")) version = std::string(trim(line.substr(8)));
  });
  if (found) return Version::parse(found_version);
  if (is_agent && installed) return Version::parse(version);
  return std::nullopt;
}

AgentVersion detect_agent_version(const HostFs& fs, const Layout& layout,
                                  const std::optional<std::string>& given) {
  AgentVersion a;
  auto take = [&](const std::string& text, const std::string& source) {
    a.source = source;
    if ((a.version = Version::parse(text))) return;
    a.error = source + " gives an unreadable agent version '" + text + "'";
  };
  if (given) {
    take(*given, "--agent-version");
    return a;
  }
  // dpkg keeps PACKAGE.list for every unpacked package: without it there is no agent to find,
  // and the status database (often megabytes) need not be read at all.
  const bool dpkg_has_agent = fs.exists("/var/lib/dpkg/info/datadog-agent.list");
  if (const auto st =
          dpkg_has_agent ? fs.read("/var/lib/dpkg/status", 64 * 1024 * 1024) : std::nullopt) {
    if ((a.version = agent_version_from_dpkg_status(st->text))) {
      a.source = "dpkg status of datadog-agent";
      return a;
    }
  }
  for (const std::string& manifest :
       {layout.agent_version_manifest, std::string(kInstallerAgentManifest)}) {
    const auto t = fs.read(manifest, 1024 * 1024);
    if (!t) continue;
    const auto j = nlohmann::json::parse(t->text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded())
      a.error = manifest + " is not JSON";
    else if (j.is_object() && j.contains("build_version") && j["build_version"].is_string())
      take(j["build_version"].get<std::string>(), manifest);
    else
      a.error = manifest + " has no build_version";
    return a;
  }
  return a;
}

}  // namespace cnm
