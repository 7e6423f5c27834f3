// The config step: system-probe.yaml created from the example when absent (0640, root and
// the agent's group), then the enable flag and the user's --set keys spliced in place.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/layout.h"
#include "common/version.h"
#include "installer/file_action.h"

namespace cnm {

struct ConfigRequest {
  std::optional<Version> agent_version;
  std::vector<std::pair<std::string, std::string>> sets;  // dotted key, YAML scalar
  std::optional<FileOwner> owner;                         // --owner; else root:<agent group>
  // The example to start from when the config is absent and the plan installs a new example
  // (from an archive) in the same run; else the host's example, else the built-in one.
  std::optional<std::string> example;
};

// Parses "KEY=VALUE" for --set; throws std::invalid_argument.
std::pair<std::string, std::string> parse_set(const std::string& kv);

// Computes the config FileAction. Throws std::runtime_error (prefixed with the file's path and
// the line:column) on a malformed file or a missing group; nothing is written either way.
FileAction plan_config(const Layout& layout, const ConfigRequest& req);

}  // namespace cnm
