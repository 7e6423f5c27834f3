// How the Datadog Agent compares the keys of its YAML files: case-insensitively (viper lowercases
// every key it reads, `insensitiviseMap`; the newer nodetreemodel reader does the same). The one
// spelling of that rule for everything that reads or edits those files (the installer's editor,
// its --set, the probe's own config), and of the keys the Agent reads in another section than
// cnmkit once documented.
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

namespace cnm {

// A key as the Agent compares it. ASCII only: the keys cnmkit names are ASCII.
inline std::string agent_key(std::string_view key) {
  std::string out(key);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The keys that turn network monitoring on: network_config.enabled; Agents before 7.24.1 read
// system_probe_config.enabled (installer/agent_version.h says which an Agent reads).
inline constexpr const char* kNetworkEnableKey = "network_config.enabled";
inline constexpr const char* kSystemProbeEnableKey = "system_probe_config.enabled";
// The key of the socket the Agent's system-probe serves (the health check asks it).
inline constexpr const char* kSysprobeSocketKey = "system_probe_config.sysprobe_socket";

// Keys cnm-probe once read under network_config that the Agent reads only under
// system_probe_config (pkg/config/setup/system_probe.go binds them to spNS, every version):
// written under network_config they change cnm-probe and not the Agent's system-probe. The
// probe still reads the old spelling with a warning; `--set` writes the key where the
// Agent reads it (and the old spelling too where a standalone file holds it).
struct MovedKey {
  std::string_view written, agent_reads;
};
inline constexpr MovedKey kMovedKeys[] = {
    {"network_config.max_tracked_connections", "system_probe_config.max_tracked_connections"},
    {"network_config.max_closed_connections_buffered",
     "system_probe_config.max_closed_connections_buffered"},
    {"network_config.disable_ipv6", "system_probe_config.disable_ipv6"},
};

// The Agent's spelling of a key written (as agent_key compares it) in a section it does not
// read there; nullopt for every other key.
inline std::optional<std::string_view> agent_spelling(std::string_view key) {
  const auto k = agent_key(key);
  for (const auto& m : kMovedKeys)
    if (k == m.written) return m.agent_reads;
  return std::nullopt;
}

}  // namespace cnm
