#include "common/agent_env.h"

#include <array>

namespace cnm {
namespace {

struct Bound {
  std::string_view variable, key;
  bool enables;
};

// The variables bound to the keys cnmctl config enable sets (both enable keys) and to the
// socket its health check asks.
constexpr std::array<Bound, 3> kBound{{
    {"DD_SYSTEM_PROBE_NETWORK_ENABLED", "network_config.enabled", true},
    {"DD_SYSTEM_PROBE_ENABLED", "system_probe_config.enabled", true},
    {"DD_SYSPROBE_SOCKET", "system_probe_config.sysprobe_socket", false},
}};

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

// Go's strconv.ParseBool, true side.
bool parses_true(std::string_view v) {
  return v == "1" || v == "t" || v == "T" || v == "TRUE" || v == "true" || v == "True";
}

std::string env_file(const Layout& layout) { return layout.config_dir + "/environment"; }

}  // namespace

std::vector<EnvOverride> agent_env_overrides(const HostFs& fs, const Layout& layout) {
  std::vector<EnvOverride> out;
  const auto text = fs.read(env_file(layout), 64 * 1024);
  if (!text) return out;
  std::string_view rest = text->text;
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const auto line = trim(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = trim(line.substr(0, eq));
    for (const auto& b : kBound) {
      if (name != b.variable) continue;
      const auto value = unquote(trim(line.substr(eq + 1)));
      std::erase_if(out, [&](const EnvOverride& o) { return o.variable == name; });  // last wins
      out.push_back({std::string(name), std::string(value), std::string(b.key),
                     b.enables && !parses_true(value)});
    }
  }
  return out;
}

std::string describe_overrides(const std::vector<EnvOverride>& o, const Layout& layout) {
  std::string s;
  for (const auto& e : o)
    s += (s.empty() ? "" : "; ") + e.variable + "=" + e.value + " in " + env_file(layout) +
         " overrides " + e.key;
  return s;
}

}  // namespace cnm
