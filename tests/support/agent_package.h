// A stand-in for the Datadog Agent's package, built with dpkg-deb: the real one is not in
// Debian, and what tests need of it is what dpkg knows: a `datadog-agent` package that owns the
// Agent's paths (its system-probe binary, the example config, its units, version-manifest.json)
// and creates the dd-agent user and group and its auth token, so `dpkg -S`, `dpkg --verify` and a
// second package that tried to take one of its files behave as on a real host.
#pragma once

#include <filesystem>
#include <string>

namespace cnm::test {

struct AgentPackage {
  std::string version = "7.50.0";
  // cnm-probe, shipped as the Agent's system-probe with the Agent's paths (its socket
  // /opt/datadog-agent/run/sysprobe.sock, its token), so it answers as the real one does;
  // empty: a script that sleeps. Agents before 6.18/7.18 do not start it themselves (their
  // unit has no Wants= on it), as the real ones did not.
  std::filesystem::path system_probe;
};

// Writes datadog-agent_VERSION_amd64.deb into out_dir and returns its path; throws
// std::runtime_error with dpkg-deb's output when it cannot.
std::filesystem::path build_agent_deb(const std::filesystem::path& out_dir,
                                      const AgentPackage& spec);

}  // namespace cnm::test
