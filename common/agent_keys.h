// How the Datadog Agent compares the keys of its YAML files: case-insensitively (viper lowercases
// every key it reads, `insensitiviseMap`; the newer nodetreemodel reader does the same). The one
// spelling of that rule for everything that reads or edits those files (the installer's editor,
// its --set, the probe's own config).
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace cnm {

// A key as the Agent compares it. ASCII only: the keys cnmkit names are ASCII.
inline std::string agent_key(std::string_view key) {
  std::string out(key);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace cnm
