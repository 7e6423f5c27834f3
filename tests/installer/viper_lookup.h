// How the Datadog Agent reads a key from system-probe.yaml, for tests of what cnmctl writes.
// Two readers, both lowercasing every key first:
// - viper (spf13/viper and the Agent's fork DataDog/viper, viper.go: find ->
//   searchIndexableWithPathPrefixes): in each mapping, the longest dotted join of the remaining
//   path parts first ("network_config.enabled" before "network_config" -> "enabled"), a miss
//   (or a null) falling back to the next shorter one.
// - nodetreemodel (datadog-agent pkg/config/nodetreemodel/read_config_file.go, loadYamlInto):
//   a dotted key is split and merged with the nested one in Go's map order, so when spellings
//   disagree the result is random: every spelling must hold the value.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <optional>
#include <string>
#include <vector>

namespace cnm::test {

inline std::string lower_key(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

inline std::string join_parts(const std::vector<std::string>& path, std::size_t b, std::size_t e) {
  std::string out;
  for (std::size_t i = b; i < e; ++i) out += (i > b ? "." : "") + lower_key(path[i]);
  return out;
}

// viper's answer for path, or nullopt (Go's nil) when it finds none.
inline std::optional<YAML::Node> viper_get(const YAML::Node& m,
                                           const std::vector<std::string>& path,
                                           std::size_t i = 0) {
  if (i == path.size()) return m;
  if (!m.IsMap()) return std::nullopt;
  for (std::size_t j = path.size(); j > i; --j) {
    const auto prefix = join_parts(path, i, j);
    for (const auto& kv : m) {
      if (!kv.first.IsScalar() || lower_key(kv.first.Scalar()) != prefix) continue;
      if (j == path.size()) {
        if (!kv.second.IsNull()) return kv.second;
      } else if (kv.second.IsMap()) {
        if (auto r = viper_get(kv.second, path, j)) return r;
      }
    }
  }
  return std::nullopt;
}

// Every value a spelling of path holds (what nodetreemodel may end up with).
inline void all_spellings(const YAML::Node& m, const std::vector<std::string>& path,
                          std::vector<YAML::Node>& out, std::size_t i = 0) {
  if (!m.IsMap()) return;
  for (const auto& kv : m) {
    if (!kv.first.IsScalar()) continue;
    const auto k = lower_key(kv.first.Scalar());
    for (std::size_t j = i + 1; j <= path.size(); ++j) {
      if (k != join_parts(path, i, j)) continue;
      if (j == path.size())
        out.push_back(kv.second);
      else
        all_spellings(kv.second, path, out, j);
    }
  }
}

// True when both readers get the scalar `want` for path.
inline bool agent_reads(const std::string& text, const std::vector<std::string>& path,
                        const std::string& want) {
  const auto root = YAML::Load(text);
  const auto v = viper_get(root, path);
  if (!v || !v->IsScalar() || v->Scalar() != want) return false;
  std::vector<YAML::Node> all;
  all_spellings(root, path, all);
  for (const auto& n : all)
    if (!n.IsScalar() || n.Scalar() != want) return false;
  return !all.empty();
}

}  // namespace cnm::test
